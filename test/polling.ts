/**
 * @module polling: waiting, in a test, for a state the code under test reaches in its own time (a child process
 * starting, a status turning, a log line appearing) by reading it again and again, never by sleeping a guess.
 */

/**
 * Reads with `read` until `done` holds for the value read, and resolves with that value. Once `timeoutMs` has
 * passed it fails, naming `what` and the last value read so that a failure says where things stood.
 */
export async function until<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs: number,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${shown(value)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls `probe` until it holds; once `timeoutMs` has passed it fails, naming `what`. */
export async function eventually(
  probe: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  intervalMs = 20,
): Promise<void> {
  await until(probe, (held) => held, what, timeoutMs, intervalMs);
}

/** `value` for a failure message: JSON where it has one, else its string form (an Error, a cyclic object). */
function shown(value: unknown): string {
  if (value instanceof Error) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
