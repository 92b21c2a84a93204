import { fork, type ChildProcess } from 'node:child_process';
import type { ChildConfig, FromChild, ToChild } from './protocol.js';

/** The consumer process as the bench process drives it: bounded waits on every answer. */
export class ConsumerProcess {
  private readonly waiting = new Map<FromChild['kind'], (m: FromChild) => void>();

  get pid(): number {
    return this.child.pid ?? NaN;
  }

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: FromChild) => {
      const resolve = this.waiting.get(m.kind);
      this.waiting.delete(m.kind);
      resolve?.(m);
    });
  }

  static async start(config: ChildConfig, execArgv: string[] = []): Promise<ConsumerProcess> {
    const child = fork(new URL('./child.js', import.meta.url), [JSON.stringify(config)], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const p = new ConsumerProcess(child);
    process.once('exit', () => child.kill()); // never outlive the bench process
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`the ${config.mode} consumer exited (${code})`))),
    );
    exited.catch(() => undefined);
    await Promise.race([p.next('ready', 60_000), exited]);
    return p;
  }

  private next<K extends FromChild['kind']>(
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<FromChild, { kind: K }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(kind);
        reject(new Error(`the consumer did not answer '${kind}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(kind, (m) => {
        clearTimeout(timer);
        resolve(m as Extract<FromChild, { kind: K }>);
      });
    });
  }

  private send(message: ToChild): void {
    this.child.send(message);
  }

  /** Resolves once `count` events have been done with since the last `collect`. */
  async reached(count: number, timeoutMs: number): Promise<void> {
    const answer = this.next('reached', timeoutMs);
    this.send({ kind: 'expect', count });
    await answer;
  }

  /** The done-times of the events since the last `collect`, by event id. */
  async collect(): Promise<Map<string, number>> {
    const answer = this.next('samples', 30_000);
    this.send({ kind: 'collect' });
    const { ids, at } = await answer;
    return new Map(ids.map((id, k) => [id, at[k] ?? NaN]));
  }

  async stop(): Promise<void> {
    const answer = this.next('stopped', 60_000);
    this.send({ kind: 'stop' });
    await answer;
  }
}
