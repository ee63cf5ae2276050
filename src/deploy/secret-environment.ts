/**
 * @module secret-environment: how a deployer turns a spec's `secretEnvironmentVariables` (variable name → secret
 * name) into values when it starts replicas. Values are read through a {@link SecretSource} (the registry with
 * the secret cipher, in a gateway), held only in memory, and never logged; what a deployer may show or persist
 * about them is the {@link SecretEnvironment.revision}, a digest of which secret incarnation and version each
 * variable got, so a rotation changes it and nothing of a value can be learned from it.
 */
import type { RegistryStore, SecretCipher } from '../registry/index.js';
import type { Registered } from '../registry/index.js';

/** A stored secret as a deployer reads it. */
export interface ResolvedSecret {
  readonly value: string;
  /** Changes with every write of the secret (its uid and version), never derived from the value. */
  readonly revision: string;
}

/** Where deployers read secret values. */
export interface SecretSource {
  /** The secret called `name`, or undefined when there is none; rejects when it cannot be opened. */
  read(name: string): Promise<ResolvedSecret | undefined>;
}

/** A source with no secrets: the default, so a deployer given no source refuses every reference by name. */
export const NO_SECRET_SOURCE: SecretSource = Object.freeze({ read: async () => undefined });

/** The registry's secrets, opened with `cipher`. */
export function storedSecretSource(
  store: Pick<RegistryStore, 'getSecret'>,
  cipher: SecretCipher,
): SecretSource {
  return {
    async read(name) {
      const stored = await store.getSecret(name);
      if (!stored) return undefined;
      return { value: await cipher.open(name, stored), revision: `${stored.uid}.${stored.version}` };
    },
  };
}

/** The resolved `secretEnvironmentVariables` of one resource. */
export interface SecretEnvironment {
  /** Variable name → value. In memory only. */
  readonly values: Readonly<Record<string, string>>;
  /**
   * Hex digest over (variable, secret, secret revision), sorted: equal while nothing was rotated, different after
   * any rotation, deletion and re-creation, or change of the map. Empty when the resource references no secret.
   */
  readonly revision: string;
}

/** Nothing referenced. */
export const EMPTY_SECRET_ENVIRONMENT: SecretEnvironment = Object.freeze({ values: {}, revision: '' });

/**
 * Reads every secret `resource` references in its environment. Rejects with a message naming the field and the
 * secret (never a value) when one does not exist, so the reconciler's status says what is missing.
 */
export async function resolveSecretEnvironment(
  source: SecretSource,
  resource: Registered,
): Promise<SecretEnvironment> {
  const entries = Object.entries(resource.spec.secretEnvironmentVariables ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  if (entries.length === 0) return EMPTY_SECRET_ENVIRONMENT;
  const values: Record<string, string> = {};
  const revisions: [string, string, string][] = [];
  for (const [variable, name] of entries) {
    const secret = await source.read(name);
    if (!secret) {
      throw new Error(
        `${resource.kind} '${resource.name}': secretEnvironmentVariables.${variable} names secret '${name}', which does not exist; replicas cannot start until it does`,
      );
    }
    values[variable] = secret.value;
    revisions.push([variable, name, secret.revision]);
  }
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(revisions)));
  const revision = [...new Uint8Array(digest).slice(0, 16)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return { values, revision };
}
