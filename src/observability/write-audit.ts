/**
 * @module write-audit: middleware that writes one audit line per control-plane write (POST, PUT, DELETE on
 * `/adapters…`, `/tools…` and `/secrets…`), after it is answered, whatever the outcome — also when authentication refused it.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../core/index.js';
import type { AuditLog, ControlWriteAudit } from './audit-log.js';

/** Options for {@link writeAudit}. */
export interface WriteAuditOptions {
  readonly audit: AuditLog;
}

const ACTIONS: Record<string, ControlWriteAudit['action'] | undefined> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
};

const KINDS: Record<string, ControlWriteAudit['kind'] | undefined> = {
  adapters: 'adapter',
  tools: 'tool',
  toolsets: 'toolset',
  secrets: 'secret',
};

function decoded(segment: string | undefined): string | undefined {
  if (segment === undefined || segment === '') return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Mount on `/adapters/*`, `/tools/*`, `/toolsets/*` and `/secrets/*` (each also matches its collection path) before authentication. */
export function writeAudit(options: WriteAuditOptions): MiddlewareHandler<AppEnv> {
  const { audit } = options;
  return async function writeAuditMiddleware(c, next) {
    const action = ACTIONS[c.req.method];
    if (!action) return next();
    await next();
    const [, collection, name, ...rest] = c.req.path.split('/');
    const kind = KINDS[collection ?? ''];
    // Only the write routes themselves: POST on the collection, PUT/PATCH/DELETE on one item.
    const routed = action === 'create' ? !name : !!name && rest.length === 0;
    if (!kind || !routed) return;
    audit.write({
      action,
      kind,
      // A create names its resource in the body; the route records it once the body is valid.
      name: decoded(name) ?? c.get('resourceName'),
      principal: c.get('principal')?.userId ?? null,
      status: c.res.status,
      requestId: c.get('requestId'),
    });
  };
}
