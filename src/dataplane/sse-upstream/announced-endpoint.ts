/**
 * @module announced-endpoint: where a 2024-11-05 server may have the gateway POST its messages. The server names
 * the URL in its first SSE event, so a hostile or compromised server could point the gateway — carrying the
 * adapter's upstream credentials and the caller's identity headers — at any other host, internal ones included.
 * Only a URL on the SSE stream's own origin (scheme, host and port) that the SSRF rules allow is taken.
 */

/** The verdict on an announced endpoint. */
export type AnnouncedEndpoint =
  { readonly ok: true; readonly url: string } | { readonly ok: false; readonly reason: string };

/**
 * Resolves the `endpoint` event's data against the SSE URL (the spec's examples send a path such as
 * `/messages?sessionId=…`) and judges it: same origin only, no user info, and not refused by `refuseUrl`.
 */
export function judgeAnnouncedEndpoint(
  data: string,
  sseUrl: string,
  refuseUrl?: (url: string) => string | undefined,
): AnnouncedEndpoint {
  let url: URL;
  let base: URL;
  try {
    base = new URL(sseUrl);
    url = new URL(data.trim(), base);
  } catch {
    return {
      ok: false,
      reason: `the announced message endpoint is not a URL: ${JSON.stringify(data.slice(0, 200))}`,
    };
  }
  if (url.origin !== base.origin) {
    return {
      ok: false,
      reason: `the announced message endpoint ${url.origin}${url.pathname} is not on the SSE stream's origin ${base.origin}`,
    };
  }
  if (url.username !== '' || url.password !== '')
    return { ok: false, reason: 'the announced message endpoint carries user info' };
  const refused = refuseUrl?.(url.href);
  if (refused) return { ok: false, reason: `the announced message endpoint is ${refused}` };
  return { ok: true, url: url.href };
}
