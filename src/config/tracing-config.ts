/**
 * @module tracing-config: OpenTelemetry tracing from the standard `OTEL_*` variables — exporter, OTLP endpoint,
 * headers and timeout, service name and resource attributes, sampler. Exporter headers usually carry credentials:
 * no message built here ever shows them (nor the endpoints, which may carry tokens in a query string).
 */
import { z } from 'zod';
import { ConfigError, booleanVar, describeValue, parseEnv } from './env.js';

/** Values of `OTEL_TRACES_EXPORTER`. */
export const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;

/** Values of `OTEL_TRACES_SAMPLER`, as the OpenTelemetry specification names them. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];

/** Spans sent as OTLP/HTTP with JSON bodies. */
export interface OtlpTraceExporterConfig {
  readonly kind: 'otlp';
  /** The full URL spans are POSTed to, e.g. `http://collector:4318/v1/traces`. */
  readonly url: string;
  /** Sent with every export, keys lower-cased. Usually credentials: never log them. */
  readonly headers: Readonly<Record<string, string>>;
  /** How long one export (with its retries) may take. */
  readonly timeoutMs: number;
}

/** Where finished spans go; `none` turns tracing off. */
export type TraceExporterConfig =
  OtlpTraceExporterConfig | { readonly kind: 'console' } | { readonly kind: 'none' };

/** Which traces are recorded. */
export interface TraceSamplerConfig {
  readonly name: TraceSamplerName;
  /** Share of new traces sampled, 0–1; read by the `traceidratio` samplers only. */
  readonly ratio: number;
}

/** The tracing part of the configuration. */
export interface TracingConfig {
  readonly exporter: TraceExporterConfig;
  /** `service.name` of every span. */
  readonly serviceName: string;
  /** Further resource attributes from `OTEL_RESOURCE_ATTRIBUTES` (`service.name` is {@link serviceName}). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: TraceSamplerConfig;
}

/** The OTLP/HTTP port on localhost: the specification's default endpoint when `otlp` is chosen without one. */
const DEFAULT_OTLP_TRACES_URL = 'http://localhost:4318/v1/traces';
const DEFAULT_SERVICE_NAME = 'mcp-gateway';

// Credentials (headers) and URLs that may embed them are named in errors but never echoed.
const UNECHOED = new Set([
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
]);

// RFC 9110 token: what Node accepts as a header name.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What Node accepts in a header value: no CR/LF (header injection) nor other control characters.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Milliseconds, 1 ms to 10 minutes. */
const timeoutVar = z
  .string()
  .trim()
  .regex(/^\d+$/, 'must be an integer number of milliseconds from 1 to 600000')
  .transform(Number)
  .pipe(z.number().int().min(1, 'must be at least 1').max(600_000, 'must be at most 600000'));

// Spans are always sent as OTLP/HTTP JSON. http/protobuf is accepted because platforms often set it for every
// service and the OpenTelemetry Collector takes both encodings (a protobuf-only vendor endpoint will not); gRPC
// needs another exporter and another port (4317), so it is refused rather than failing at every export.
const protocolVar = z
  .string()
  .trim()
  .pipe(
    z.enum(['http/json', 'http/protobuf'], {
      error: 'must be http/json or http/protobuf (grpc is not supported: spans are sent as OTLP/HTTP JSON)',
    }),
  )
  .optional();

const httpUrlVar = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL')
  .optional();

/**
 * A `key=value,key2=value2` list with percent-encoded values (the W3C Baggage shape the OTel specification
 * uses). Issues name the entry by position only: an entry without `=` may well be a bare secret.
 */
const keyValueListVar = (validKey: (key: string) => boolean, validValue: (value: string) => boolean) =>
  z
    .string()
    .transform((raw, ctx) => {
      const record: Record<string, string> = {};
      raw.split(',').forEach((entry, index) => {
        if (entry.trim() === '') return;
        const at = entry.indexOf('=');
        const key = at < 0 ? '' : entry.slice(0, at).trim();
        let value: string | undefined;
        try {
          value = at < 0 ? undefined : decodeURIComponent(entry.slice(at + 1).trim());
        } catch {
          value = undefined;
        }
        if (!key || value === undefined || !validKey(key) || !validValue(value)) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${index + 1} is not key=value with a valid key and a percent-encoded value`,
          });
          return;
        }
        record[key] = value;
      });
      return record;
    })
    .optional();

const headersVar = keyValueListVar(
  (key) => HEADER_NAME.test(key),
  (value) => HEADER_VALUE.test(value),
);
const attributesVar = keyValueListVar(
  () => true,
  () => true,
);

const TracingEnvSchema = z.object({
  OTEL_SDK_DISABLED: booleanVar(false),
  OTEL_TRACES_EXPORTER: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(TRACE_EXPORTERS, { error: `must be one of ${TRACE_EXPORTERS.join(', ')}` }))
    .optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrlVar,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrlVar,
  OTEL_EXPORTER_OTLP_HEADERS: headersVar,
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: headersVar,
  OTEL_EXPORTER_OTLP_TIMEOUT: timeoutVar.default(10_000),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: timeoutVar.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocolVar,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocolVar,
  OTEL_SERVICE_NAME: z.string().trim().optional(),
  OTEL_RESOURCE_ATTRIBUTES: attributesVar,
  OTEL_TRACES_SAMPLER: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(TRACE_SAMPLERS, { error: `must be one of ${TRACE_SAMPLERS.join(', ')}` }))
    .default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.string().trim().optional(),
});

/** `<base>/v1/traces`, whether or not the base ends with a slash (the specification's rule for the base URL). */
function tracesUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** A ratio 0–1, or undefined when `raw` is not one. */
function ratioOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return 1;
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(raw)) return undefined;
  const ratio = Number(raw);
  return ratio <= 1 ? ratio : undefined;
}

/**
 * Parses the `OTEL_*` tracing variables; throws {@link ConfigError} naming each problem, never showing a header
 * value or an endpoint. Without an endpoint or `OTEL_TRACES_EXPORTER`, tracing is off (exporter `none`).
 */
export function parseTracingConfig(env: Record<string, string | undefined>): TracingConfig {
  const e = parseEnv(TracingEnvSchema, env, UNECHOED);
  const sampler = e.OTEL_TRACES_SAMPLER;
  const ratio = sampler.endsWith('traceidratio') ? ratioOf(e.OTEL_TRACES_SAMPLER_ARG) : 1;
  if (ratio === undefined) {
    throw new ConfigError([
      `OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for ${sampler}` +
        describeValue('OTEL_TRACES_SAMPLER_ARG', env, UNECHOED),
    ]);
  }

  const endpoint =
    e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined ? undefined : tracesUrl(e.OTEL_EXPORTER_OTLP_ENDPOINT));
  const chosen = e.OTEL_SDK_DISABLED ? 'none' : (e.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : 'none'));
  const exporter: TraceExporterConfig =
    chosen === 'otlp'
      ? {
          kind: 'otlp',
          url: endpoint ?? DEFAULT_OTLP_TRACES_URL,
          // Per key, the traces-specific list wins over the general one; names are case-insensitive.
          headers: {
            ...lowerCaseKeys(e.OTEL_EXPORTER_OTLP_HEADERS),
            ...lowerCaseKeys(e.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
          },
          timeoutMs: e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? e.OTEL_EXPORTER_OTLP_TIMEOUT,
        }
      : { kind: chosen };

  const { 'service.name': serviceNameAttribute, ...resourceAttributes } = e.OTEL_RESOURCE_ATTRIBUTES ?? {};
  return {
    exporter,
    // The specification's precedence: OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES.
    serviceName: e.OTEL_SERVICE_NAME || serviceNameAttribute || DEFAULT_SERVICE_NAME,
    resourceAttributes,
    sampler: { name: sampler, ratio },
  };
}

function lowerCaseKeys(record: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) out[key.toLowerCase()] = value;
  return out;
}
