/**
 * When a message whose hand-off failed for a reason that may pass (the server down, a 4xx reply,
 * HTTP 429 or 5xx) is tried again: after the n-th attempt, the n-th delay (the last repeats);
 * undefined once `maxAttempts` hand-offs were made (then it is failed for good).
 */
export function nextAttemptAt(
  now: Date,
  attempts: number,
  policy: { maxAttempts: number; delaysSec: readonly number[] },
): Date | undefined {
  if (attempts >= policy.maxAttempts) return undefined;
  const delays = policy.delaysSec;
  const delay = delays[Math.min(attempts, delays.length) - 1] ?? delays[delays.length - 1] ?? 60;
  return new Date(now.getTime() + delay * 1000);
}

export function parseDelays(text: string): number[] {
  return text
    .split(',')
    .map((d) => Number(d.trim()))
    .filter((d) => Number.isInteger(d) && d > 0);
}
