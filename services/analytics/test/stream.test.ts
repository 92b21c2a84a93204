import type { AnalyticsDashboard } from '@hms/contracts';
import { uuidv7 } from '@hms/platform';
import { startService, type RunningService } from '@hms/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsService } from '../src/service.js';
import { appointmentEvent } from './fixtures.js';
import { ANALYTICS } from './helpers.js';

/**
 * GET /analytics/stream: server-sent events of the dashboard for the console. Started by hand
 * (not useService) so that the last test can stop the service under an open stream.
 */
const TODAY = '2027-03-10';
let svc: RunningService;
let stopped = false;

beforeAll(async () => {
  svc = await startService(analyticsService, {
    env: {
      FACILITY_TIMEZONE: 'Europe/Berlin',
      ANALYTICS_STREAM_INTERVAL_MS: '50',
      ANALYTICS_STREAM_HEARTBEAT_MS: '200',
    },
    clock: { now: () => new Date('2027-03-10T12:00:00.000Z') },
  });
}, 60_000);
afterAll(async () => {
  if (!stopped) await svc.close();
});

/** An open stream: frames as they arrive, and whether the server ended it. */
async function open(token: string) {
  const controller = new AbortController();
  const res = await fetch(`${svc.url}${ANALYTICS}/stream`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  const frames: string[] = [];
  let ended = false;
  const done = (async () => {
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += value;
        const parts = buffer.split('\n\n');
        buffer = parts.pop() ?? '';
        frames.push(...parts);
      }
      ended = true;
    } catch {
      // aborted by the test
    }
  })();
  const next = async (what: string, match: (frame: string) => boolean, ms = 5000): Promise<string> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms: ${JSON.stringify(frames)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { res, frames, next, done, ended: () => ended, close: () => controller.abort() };
}

const dashboardOf = (frame: string) =>
  JSON.parse(
    frame
      .split('\n')
      .find((l) => l.startsWith('data: '))
      ?.slice(6) ?? '{}',
  ) as AnalyticsDashboard;

describe('the dashboard stream', () => {
  it('sends the dashboard at once, again on a change, and a heartbeat between', async () => {
    const stream = await open(await svc.keys.mint({ roles: ['manager'] }));
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.res.headers.get('cache-control')).toBe('no-store');
    expect(await stream.next('retry', (f) => f === 'retry: 5000')).toBeTruthy();
    const first = await stream.next('a dashboard', (f) => f.includes('event: dashboard'));
    expect(first.split('\n').slice(0, 2)).toEqual(['id: 1', 'event: dashboard']);
    expect(dashboardOf(first)).toMatchObject({ from: TODAY, to: TODAY, appointments: { scheduled: 0 } });

    const booked = appointmentEvent({
      id: uuidv7(),
      version: 1,
      status: 'scheduled',
      start: '2027-03-10T15:00:00.000Z',
    });
    await svc.bus.publish([booked]);
    const second = await stream.next('the changed dashboard', (f) => f.startsWith('id: 2\n'));
    expect(dashboardOf(second).appointments.scheduled).toBe(1);
    expect(await stream.next('a heartbeat', (f) => f === ': heartbeat')).toBeTruthy();
    // nothing changed since: no third dashboard
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.frames.filter((f) => f.includes('event: dashboard'))).toHaveLength(2);
    stream.close();
    await stream.done;
  });

  it('ends when its token expires', async () => {
    const stream = await open(await svc.keys.mint({ roles: ['manager'], expiresInSec: 2 }));
    await stream.next('a dashboard', (f) => f.includes('event: dashboard'));
    await Promise.race([stream.done, new Promise((resolve) => setTimeout(resolve, 5000))]);
    expect(stream.ended()).toBe(true);
  });

  it('ends cleanly when the service stops, and the service stops without waiting for it', async () => {
    const stream = await open(await svc.keys.mint({ roles: ['manager'] }));
    await stream.next('a dashboard', (f) => f.includes('event: dashboard'));
    const started = Date.now();
    await svc.close();
    stopped = true;
    expect(Date.now() - started).toBeLessThan(5000);
    await stream.done;
    expect(stream.ended()).toBe(true);
  });
});
