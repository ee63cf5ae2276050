/**
 * @module watched-body: a body that tells when it is over, for code that must learn when a (possibly long-lived
 * SSE) exchange ends or its client goes away: a session counting open exchanges, a router counting open
 * standalone streams, an observer timing an exchange.
 */

/** Passes `body` through and calls `end` once, when it is read to its end, fails, or is cancelled by the reader. */
export function watchedBody(body: ReadableStream<Uint8Array>, end: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    end();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          finish();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        finish();
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

/**
 * `response` with its body passed through {@link watchedBody}, so that `onEnd` runs once the body is over. A
 * response without a body is returned as it is, and `onEnd` is not run.
 */
export function withBodyEnd(response: Response, onEnd: () => void): Response {
  if (!response.body) return response;
  return new Response(watchedBody(response.body, onEnd), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
