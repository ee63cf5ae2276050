/**
 * @module kube-errors: reading errors of `@kubernetes/client-node` (typed API `ApiException`s carrying a
 * `Status` body, watch errors carrying `statusCode`) and turning them into messages an operator can act on.
 */

/** An object the gateway would have to adopt, change or delete although it did not create it. */
export class NotOwnedError extends Error {
  override readonly name = 'NotOwnedError';
}

/** The HTTP status of a client error, if it has one. */
export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

/** The `message` of the API server's `Status` body, else the error's own first line. */
export function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string' && body.trim().startsWith('{')) {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string' && status.message) return status.message;
    } catch {
      // Not JSON after all; fall through to the error's own message.
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string')
    return (body as { message: string }).message;
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

/** An error for `action` that says what Kubernetes answered and, where it helps, what to do. */
export function describeApiError(action: string, err: unknown): Error {
  const code = statusCodeOf(err);
  const message = apiMessage(err);
  if (code === 401)
    return new Error(`${action}: the Kubernetes API refused the gateway's credentials (${message})`);
  if (code === 403)
    return new Error(
      `${action}: the gateway's service account is not allowed to do this (${message}); grant the Role in k8s/base/rbac.yaml`,
    );
  if (code === 422) return new Error(`${action}: Kubernetes refused the object as invalid: ${message}`);
  if (code !== undefined) return new Error(`${action}: Kubernetes API error ${code}: ${message}`);
  return new Error(`${action}: cannot reach the Kubernetes API: ${message}`);
}
