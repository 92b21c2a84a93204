import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** What an upstream answered: the whole body when it was read at once, else a stream of it. */
export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer | Readable;
}

/**
 * One call upstream, which its caller or its timeout may abort: the attempt in flight is aborted
 * through undici's controller, and no further attempt starts. (Lighter than an AbortController
 * and its signal's listeners, which each request would otherwise make.)
 */
export class UpstreamCall {
  reason: Error | undefined;
  private controller: Dispatcher.DispatchController | undefined;

  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** The attempt now in flight (aborted at once when the call already was). */
  attach(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason) controller.abort(this.reason);
  }
}

/**
 * Receives one attempt's answer from undici's dispatcher: a small answer of known length is
 * collected and handed over complete; any other is handed over as soon as its headers arrive,
 * its body a Readable that pauses the socket when the reader falls behind and aborts the request
 * when it is destroyed before the end.
 */
export class AnswerHandler implements Dispatcher.DispatchHandler {
  private chunks: Buffer[] | undefined;
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private stream: Readable | undefined;
  private settled = false;
  /** The answer ended or failed: nothing is left to abort. */
  private over = false;

  constructor(
    private readonly call: UpstreamCall,
    private readonly bufferUpTo: number,
    private readonly resolve: (res: UpstreamResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.call.attach(controller);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ) {
    if (statusCode < 200) return; // 1xx: informational, the answer is still to come
    if (Number(headers['content-length'] ?? Number.NaN) <= this.bufferUpTo) {
      this.chunks = [];
      this.statusCode = statusCode;
      this.headers = headers;
      return;
    }
    const stream = new Readable({
      read: () => controller.resume(),
      destroy: (err, callback) => {
        // a reader that gives up before the end (the client went away): the request is aborted
        if (!this.over) controller.abort(err ?? new Error('answer no longer wanted'));
        callback(err);
      },
    });
    this.stream = stream;
    this.settle({ statusCode, headers, body: stream });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks) this.chunks.push(chunk);
    else if (this.stream && !this.stream.push(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.over = true;
    const chunks = this.chunks;
    if (chunks)
      this.settle({
        statusCode: this.statusCode,
        headers: this.headers,
        body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks),
      });
    else this.stream?.push(null);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.over = true;
    if (this.stream) this.stream.destroy(err);
    else if (!this.settled) {
      this.settled = true;
      this.reject(err);
    }
  }

  private settle(res: UpstreamResponse): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(res);
  }
}
