/**
 * @module FetchForwarder: forwards with the Fetch API. Used on the edge and wherever no Node bindings exist
 * (e.g. `app.request()` in tests); streams the body through and cancels upstream when the client goes away.
 */
import type {
  ClientHead,
  DoneCallback,
  ForwardOutcome,
  ForwardRequest,
  Forwarder,
  HeadRewriter,
} from './forwarder.js';
import { withQuery } from './upstream-query.js';

/** Options for {@link createFetchForwarder}. */
export interface FetchForwarderOptions {
  readonly fetch?: typeof fetch;
  /** Aborted when the client disconnects. */
  readonly clientSignal?: AbortSignal;
}

const ABANDONED: ForwardOutcome = { ok: false, failure: 'abandoned', message: 'the client went away' };

function failureOf(err: unknown, timedOut: boolean): ForwardOutcome {
  if (timedOut) return { ok: false, failure: 'timeout', message: 'no response in time' };
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  if (code === 'ECONNREFUSED') return { ok: false, failure: 'refused', message: 'connection refused' };
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return { ok: false, failure: 'connect-timeout', message: 'connect timeout' };
  return { ok: false, failure: 'error', message: typeof code === 'string' ? code : (err as Error).message };
}

/**
 * Wraps the upstream body so that silence longer than `idleMs` aborts it, and `done` runs exactly once
 * when the body ends, fails or is cancelled by the client.
 */
function watchedBody(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  abort: () => void,
  done: DoneCallback,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done();
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      abort();
      finish();
    }, idleMs);
  };
  return new ReadableStream<Uint8Array>({
    start: arm,
    async pull(controller) {
      try {
        const { value, done: ended } = await reader.read();
        if (ended) {
          controller.close();
          finish();
          return;
        }
        arm();
        controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        finish();
      }
    },
    cancel(reason) {
      finish();
      abort();
      return reader.cancel(reason);
    },
  });
}

/** A Fetch-API forwarder bound to one client request. */
export function createFetchForwarder(options: FetchForwarderOptions = {}): Forwarder {
  const doFetch = options.fetch ?? fetch;
  return {
    async forward(
      request: ForwardRequest,
      rewrite: HeadRewriter,
      done: DoneCallback,
    ): Promise<ForwardOutcome> {
      // As in the Node forwarder: a client gone while the proxy decided gets no upstream request made for it.
      if (options.clientSignal?.aborted) {
        done();
        return ABANDONED;
      }
      const controller = new AbortController();
      const onClientAbort = () => controller.abort();
      options.clientSignal?.addEventListener('abort', onClientAbort, { once: true });
      let timedOut = false;
      // Fetch cannot tell connecting from waiting; one timer covers both until the head arrives.
      const headTimer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, request.connectTimeoutMs + request.idleTimeoutMs);
      const cleanup = () => {
        options.clientSignal?.removeEventListener('abort', onClientAbort);
        done();
      };
      let upstream: Response;
      try {
        // Fetch sets Host from the URL itself and refuses to be told.
        const { host: _host, ...headers } = request.headers;
        upstream = await doFetch(withQuery(request.url, request.query), {
          method: request.method,
          headers,
          body: request.body as BodyInit | undefined,
          redirect: 'manual',
          signal: controller.signal,
        });
      } catch (err) {
        clearTimeout(headTimer);
        cleanup();
        return options.clientSignal?.aborted ? ABANDONED : failureOf(err, timedOut);
      } finally {
        clearTimeout(headTimer);
      }
      let head: ClientHead;
      try {
        head = await rewrite({
          status: upstream.status,
          header: (name) => upstream.headers.get(name) ?? undefined,
        });
      } catch (err) {
        await upstream.body?.cancel();
        cleanup();
        throw err;
      }
      // Fetch has already decoded any content-encoding, so length and encoding no longer describe the bytes.
      const headers = { ...head.headers };
      delete headers['content-encoding'];
      delete headers['content-length'];
      const body = upstream.body
        ? watchedBody(upstream.body, request.idleTimeoutMs, () => controller.abort(), cleanup)
        : null;
      if (!body) cleanup();
      const nullBody = head.status === 204 || head.status === 304;
      if (nullBody) await body?.cancel();
      return {
        ok: true,
        status: head.status,
        response: new Response(nullBody ? null : body, { status: head.status, headers }),
      };
    },
  };
}
