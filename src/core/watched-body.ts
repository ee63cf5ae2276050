/**
 * @module watched-body: a response whose body tells when it is over, for code that must learn when a (possibly
 * long-lived SSE) exchange ends or its client goes away: a session counting open exchanges, a router counting
 * open standalone streams.
 */

/**
 * `response` with its body re-wrapped so that `onEnd` runs once, when the body is read to its end, fails, or is
 * cancelled by the reader. A response without a body is returned as it is, and `onEnd` is not run.
 */
export function withBodyEnd(response: Response, onEnd: () => void): Response {
  if (!response.body) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          onEnd();
        } else controller.enqueue(value);
      } catch (error) {
        controller.error(error);
        onEnd();
      }
    },
    cancel(reason) {
      onEnd();
      return reader.cancel(reason);
    },
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
