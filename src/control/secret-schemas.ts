/**
 * @module secret-schemas: the bodies and views of `/secrets`. A value goes in and never comes out: no response
 * schema has a field for it.
 */
import { z } from '@hono/zod-openapi';
import { ResourceName } from './schemas.js';

/** Longest secret value: as long as an environment variable value may be, where `secretEnvironmentVariables` put them. */
export const MAX_SECRET_VALUE_LENGTH = 32_768;

// zod's messages never quote the input, so no refusal below can echo a value back.
const SecretValue = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_SECRET_VALUE_LENGTH, `must be at most ${MAX_SECRET_VALUE_LENGTH} characters`)
  // A value may become an environment variable, which a process receives as a C string.
  .refine((value) => !value.includes('\0'), 'must not contain NUL bytes')
  .openapi({
    description: `The secret itself, 1 to ${MAX_SECRET_VALUE_LENGTH} characters without NUL. Write-only: stored encrypted and never returned.`,
    example: 'ghp_0123456789abcdef',
    writeOnly: true,
  });

/** Body of `POST /secrets`. */
export const SecretData = z
  .strictObject({
    name: ResourceName,
    value: SecretValue,
  })
  .openapi('SecretData');
export type SecretData = z.infer<typeof SecretData>;

/** Body of `PUT /secrets/{name}`: a new value (a rotation). */
export const SecretRotation = z
  .strictObject({
    name: z
      .string()
      .optional()
      .openapi({ description: 'Optional; when given it must equal the name in the URL.' }),
    value: SecretValue,
  })
  .openapi('SecretRotation');
export type SecretRotation = z.infer<typeof SecretRotation>;

/** A secret as the API shows it: who wrote it when, never its value. */
export const SecretResource = z
  .object({
    name: z.string(),
    createdBy: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    lastUpdatedAt: z.string().openapi({ format: 'date-time', description: 'When the value was last set.' }),
    usedBy: z
      .array(z.object({ kind: z.enum(['adapter', 'tool']), name: z.string() }))
      .openapi({ description: 'The adapters and tools that reference the secret, by kind then name.' }),
  })
  .openapi('SecretResource');
export type SecretResource = z.infer<typeof SecretResource>;

/** Query of `DELETE /secrets/{name}`. */
export const SecretDeleteQuery = z.object({
  force: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .openapi({
      param: { name: 'force', in: 'query' },
      description: 'Delete even while adapters or tools reference the secret (default false: 409).',
    }),
});

/** Body of `POST /secrets/rekey`. */
export const SecretRekeyRequest = z
  .strictObject({
    dryRun: z
      .boolean()
      .optional()
      .openapi({ description: 'Only count the values still sealed under an old key; write nothing.' }),
  })
  .openapi('SecretRekeyRequest');
export type SecretRekeyRequest = z.infer<typeof SecretRekeyRequest>;

const RekeyCounts = z.object({
  secrets: z.number().int(),
  grants: z.number().int(),
  settings: z.number().int(),
});

/** What `POST /secrets/rekey` answers: counts and key ids, never a value or a key. */
export const SecretRekeyReport = z
  .object({
    keyId: z
      .string()
      .openapi({ description: 'Id of the current key, which every value is re-sealed under.' }),
    resealed: RekeyCounts.openapi({ description: 'Values re-sealed by this call (0 in a dry run).' }),
    remaining: RekeyCounts.openapi({
      description: 'Values still under an old key: when all are 0, the previous secrets can be dropped.',
    }),
    unreadable: z
      .array(
        z.object({
          kind: z.enum(['secret', 'grant', 'setting']),
          name: z.string(),
          keyId: z.string(),
        }),
      )
      .openapi({
        description:
          'Values under a key id that neither the gateway secret nor MCP_GATEWAY_PREVIOUS_SECRETS gives: add the secret that sealed them to the previous secrets and run again.',
      }),
  })
  .openapi('SecretRekeyReport');
