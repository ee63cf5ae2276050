/**
 * @module upstream-credentials: the gateway's own credential for an upstream (`upstreamAuth` on an adapter or a
 * tool), as a header to add to a request after the caller's headers were filtered. The secret named by the spec
 * is read from the secret store and decrypted when a request is sent, and reused for at most `ttlMs` (the
 * registry cache's TTL, as adapters are): a read and a decryption cost about twice the adapter row read that
 * cache saves (`scripts/bench/upstream-credentials.ts`). A write to `/secrets` on this instance drops the value at
 * once ({@link UpstreamCredentials.forget}), so a rotation counts from the next request here and within the TTL
 * on other replicas. Decrypted values are kept in this process's memory only.
 * The caller never sets this header (the forwarders write it last, over anything of the same name) and never
 * reads it (the response header allow-list, `dataplane/proxy-headers.ts`).
 */
import type { Logger } from '../observability/index.js';
import { SecretDecryptionError } from '../registry/index.js';
import type { CommonSpec, ResourceKind } from '../registry/index.js';

/** One header to send upstream. */
export interface UpstreamCredential {
  /** Lower case, as the forwarders key headers (so it replaces a caller's header of the same name). */
  readonly header: string;
  readonly value: string;
}

/** Why a credential could not be made; the message names the resource and the secret, never a value. */
export type UpstreamCredentialProblem = 'missing' | 'unreadable' | 'unusable';

/** The credential of a resource could not be made: nothing is sent upstream without it. */
export class UpstreamCredentialError extends Error {
  constructor(
    message: string,
    readonly secret: string,
    readonly problem: UpstreamCredentialProblem,
  ) {
    super(message);
    this.name = 'UpstreamCredentialError';
  }
}

/** What the resolver needs of a resource. */
export interface CredentialedResource {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly spec: Pick<CommonSpec, 'upstreamAuth'>;
}

/** Makes the header a resource's upstream gets. */
export interface UpstreamCredentials {
  /**
   * The header to add for `resource`, or undefined when it has no `upstreamAuth`. Rejects with
   * {@link UpstreamCredentialError} when the secret is missing, cannot be decrypted, or cannot travel in a header.
   */
  resolve(resource: CredentialedResource): Promise<UpstreamCredential | undefined>;
  /** The secret was written or deleted on this instance: its value is read afresh by the next request. */
  forget(secret: string): void;
}

/** For runtimes without a secret store (tests of other parts): a resource with `upstreamAuth` is refused. */
export const NO_UPSTREAM_CREDENTIALS: UpstreamCredentials = Object.freeze({
  async resolve(resource: CredentialedResource) {
    const auth = resource.spec.upstreamAuth;
    if (!auth) return undefined;
    throw new UpstreamCredentialError(
      `${label(resource)} needs secret '${auth.secret}' for its upstream, and this gateway has no secret store.`,
      auth.secret,
      'missing',
    );
  },
  forget() {},
});

/** Options for {@link createUpstreamCredentials}. */
export interface UpstreamCredentialsOptions {
  /** The decrypted value of a stored secret, or undefined when there is none (`readSecretValue`). */
  readonly readSecret: (name: string) => Promise<string | undefined>;
  readonly logger: Logger;
  /** How long a value read (or found missing) is reused; 0, the default, reads on every request. */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

const label = (resource: CredentialedResource) =>
  `${resource.kind === 'adapter' ? 'Adapter' : 'Tool'} '${resource.name}'`;

/**
 * What a header value may hold (RFC 9110 §5.5 without obs-text): visible ASCII, spaces and tabs. A CR or LF
 * would split the request, and the forwarders refuse anything else with an error that could echo the value.
 */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** Builds the resolver over the secret store. */
export function createUpstreamCredentials(options: UpstreamCredentialsOptions): UpstreamCredentials {
  const { readSecret, logger } = options;
  const ttlMs = options.ttlMs ?? 0;
  const now = options.now ?? Date.now;
  // Concurrent misses share one read; a forgotten entry's read still settles, into an entry no longer listed.
  const values = new Map<string, { readonly value: Promise<string | undefined>; readonly expires: number }>();

  function read(secret: string): Promise<string | undefined> {
    if (ttlMs === 0) return readSecret(secret);
    const hit = values.get(secret);
    if (hit && hit.expires > now()) return hit.value;
    const entry = { value: readSecret(secret), expires: now() + ttlMs };
    values.set(secret, entry);
    // A failed read (an undecryptable value) is not reused.
    entry.value.catch(() => {
      if (values.get(secret) === entry) values.delete(secret);
    });
    return entry.value;
  }

  function refuse(
    resource: CredentialedResource,
    secret: string,
    problem: UpstreamCredentialProblem,
    why: string,
  ): never {
    // The resource and the secret's name only: the value, if there was one, stays out of the log.
    logger.warn(
      { [resource.kind]: resource.name, secretName: secret, problem },
      'upstream credential unavailable',
    );
    throw new UpstreamCredentialError(`${label(resource)} ${why}`, secret, problem);
  }

  return {
    async resolve(resource) {
      const auth = resource.spec.upstreamAuth;
      if (!auth) return undefined;
      const { secret } = auth;
      let value: string | undefined;
      try {
        value = await read(secret);
      } catch (err) {
        if (!(err instanceof SecretDecryptionError)) throw err;
        return refuse(
          resource,
          secret,
          'unreadable',
          `cannot use secret '${secret}' for its upstream: this gateway cannot decrypt it (${err.message}).`,
        );
      }
      if (value === undefined) {
        return refuse(
          resource,
          secret,
          'missing',
          `needs secret '${secret}' for its upstream, and no such secret exists: create it with POST /secrets.`,
        );
      }
      if (!HEADER_VALUE.test(value)) {
        return refuse(
          resource,
          secret,
          'unusable',
          `cannot send secret '${secret}' upstream: its value holds characters an HTTP header cannot carry (a line break, a control character or non-ASCII text); rotate it with PUT /secrets/${secret}.`,
        );
      }
      if (auth.type === 'bearer') return { header: 'authorization', value: `Bearer ${value}` };
      return { header: auth.name.toLowerCase(), value: `${auth.prefix ?? ''}${value}` };
    },
    forget(secret) {
      values.delete(secret);
    },
  };
}
