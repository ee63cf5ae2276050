/**
 * @module secret-references: where a resource spec names a stored secret (`/secrets`), and what the control plane
 * does with that list — refuse a reference to a secret that does not exist, find who uses a secret (`usedBy`,
 * the 409 of a delete), and tell those users' deployers when it rotates. Each kind of reference is one extractor
 * in {@link EXTRACTORS}; a new field that names secrets is one more function there, and every check below
 * covers it.
 */
import { badRequest } from '../http/index.js';
import type { ErrorDetail } from '../http/index.js';
import { listAll, upstreamAuthSecretName } from '../registry/index.js';
import type { AdapterSpec, RegistryStore, ResourceKind, ToolSpec } from '../registry/index.js';

/** One place a spec names a secret: the body field (`secretEnvironmentVariables.GITHUB_TOKEN`) and the secret. */
export interface SecretReference {
  readonly field: string;
  readonly secret: string;
}

/** A spec as the extractors read it (an adapter's or a tool's). */
export type ReferencingSpec = AdapterSpec | ToolSpec;

/** Lists the secret references of one family of fields of a spec. */
export type SecretReferenceExtractor = (spec: ReferencingSpec) => readonly SecretReference[];

/** A resource that references a secret, as `usedBy` shows it. */
export interface SecretUser {
  readonly kind: ResourceKind;
  readonly name: string;
}

/** `secretEnvironmentVariables`: variable name → secret name. */
const environmentReferences: SecretReferenceExtractor = (spec) =>
  Object.entries(spec.secretEnvironmentVariables ?? {}).map(([variable, secret]) => ({
    field: `secretEnvironmentVariables.${variable}`,
    secret,
  }));

/** `upstreamAuth`: the key the gateway sends upstream, or the OAuth client's secret. */
const upstreamAuthReferences: SecretReferenceExtractor = (spec) => {
  const secret = upstreamAuthSecretName(spec);
  if (secret === undefined) return [];
  const type = spec.upstreamAuth?.type;
  const field = type === 'bearer' || type === 'header' ? 'secret' : 'clientSecret';
  return [{ field: `upstreamAuth.${field}`, secret }];
};

/**
 * Every family of fields that names secrets. Each hands the value to something the writer picks — a process or
 * pod it configures, or an endpoint URL it registers — so each is as good as reading the secret.
 */
const EXTRACTORS: readonly SecretReferenceExtractor[] = [environmentReferences, upstreamAuthReferences];

/** Every secret reference in `spec`, in field order (a secret named twice is listed twice). */
export function secretReferencesOf(spec: ReferencingSpec): SecretReference[] {
  return EXTRACTORS.flatMap((extract) => extract(spec));
}

/**
 * Throws a 400 naming each field whose secret does not exist. Asked only after the caller passed the reference
 * gate, since the answer tells which secret names exist.
 */
export async function checkReferencedSecretsExist(
  store: Pick<RegistryStore, 'getSecret'>,
  references: readonly SecretReference[],
): Promise<void> {
  const names = [...new Set(references.map((r) => r.secret))];
  const found = await Promise.all(names.map(async (name) => [name, await store.getSecret(name)] as const));
  const missing = new Set(found.filter(([, row]) => !row).map(([name]) => name));
  const problems: ErrorDetail[] = references
    .filter((r) => missing.has(r.secret))
    .map((r) => ({
      path: r.field,
      message: `names secret '${r.secret}', which does not exist; create it first (POST /secrets)`,
    }));
  if (problems.length > 0)
    throw badRequest(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
}

const KINDS: readonly ResourceKind[] = ['adapter', 'tool'];

/**
 * Who references each secret, by secret name (each user once, kind then name order). A scan of the registry:
 * references live inside resource specs, which are JSON, not rows of their own.
 */
export async function secretUsers(
  store: Pick<RegistryStore, 'list'>,
): Promise<ReadonlyMap<string, readonly SecretUser[]>> {
  const users = new Map<string, SecretUser[]>();
  for (const kind of KINDS) {
    for await (const row of listAll(store, kind)) {
      const secrets = new Set(secretReferencesOf(row.spec).map((r) => r.secret));
      for (const secret of secrets) {
        const list = users.get(secret) ?? [];
        list.push({ kind, name: row.name });
        users.set(secret, list);
      }
    }
  }
  return users;
}

/** `adapter 'a', tool 'b'`: users as a 409 names them. */
export function describeUsers(users: readonly SecretUser[]): string {
  return users.map((u) => `${u.kind} '${u.name}'`).join(', ');
}
