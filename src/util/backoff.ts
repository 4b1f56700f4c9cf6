/**
 * Exponential backoff with jitter, for reconnects (the gateway's event stream)
 * and retries (webhook deliveries): attempt n waits between half and all of
 * min(cap, base * 2^n), so many clients cut off at once do not come back in step.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  /** In [0, 1); Math.random by default. */
  random?: () => number;
}

/** The wait before retry number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const exp = Math.min(o.capMs, o.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const r = (o.random ?? Math.random)();
  return Math.round(exp / 2 + (r * exp) / 2);
}
