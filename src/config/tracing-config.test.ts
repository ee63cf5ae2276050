import { describe, expect, it } from 'vitest';
import { createTracing } from '../observability/tracing/otel/index.js';
import { NO_TRACING } from '../observability/tracing/index.js';
import { ConfigError } from './env.js';
import { parseTracingConfig } from './tracing-config.js';

function problemsOf(env: Record<string, string>): string {
  try {
    parseTracingConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

describe('parseTracingConfig', () => {
  it('defaults: no exporter (tracing off), service mcp-gateway, parent-based always-on sampling', () => {
    const config = parseTracingConfig({});
    expect(config).toEqual({
      exporter: { kind: 'none' },
      serviceName: 'mcp-gateway',
      resourceAttributes: {},
      sampler: { name: 'parentbased_always_on', ratio: 1 },
    });
    expect(createTracing(config)).toBe(NO_TRACING);
  });

  it('exports OTLP once an endpoint is set, to <base>/v1/traces, with the specification’s defaults', () => {
    expect(parseTracingConfig(ENDPOINT).exporter).toEqual({
      kind: 'otlp',
      url: 'http://collector:4318/v1/traces',
      headers: {},
      timeoutMs: 10_000,
    });
    for (const base of ['http://c:4318/', 'http://c:4318//']) {
      expect(parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: base }).exporter).toMatchObject({
        url: 'http://c:4318/v1/traces',
      });
    }
    expect(
      parseTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/prefix' }).exporter,
    ).toMatchObject({ url: 'https://otel.example/prefix/v1/traces' });
  });

  it('uses the traces endpoint as-is, ahead of the base one', () => {
    expect(
      parseTracingConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t.example/custom' })
        .exporter,
    ).toMatchObject({ kind: 'otlp', url: 'https://t.example/custom' });
  });

  it('reads OTEL_TRACES_EXPORTER: otlp without an endpoint goes to localhost; console; none wins over an endpoint', () => {
    expect(parseTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).exporter).toMatchObject({
      url: 'http://localhost:4318/v1/traces',
    });
    expect(parseTracingConfig({ OTEL_TRACES_EXPORTER: 'Console' }).exporter).toEqual({ kind: 'console' });
    expect(parseTracingConfig({ ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }).exporter).toEqual({
      kind: 'none',
    });
  });

  it('turns everything off with OTEL_SDK_DISABLED', () => {
    const env = { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'otlp' };
    expect(parseTracingConfig({ ...env, OTEL_SDK_DISABLED: 'true' }).exporter).toEqual({ kind: 'none' });
    expect(parseTracingConfig({ ...env, OTEL_SDK_DISABLED: 'false' }).exporter.kind).toBe('otlp');
  });

  it('reads headers: percent-decoded values, lower-cased names, traces-specific ones winning per name', () => {
    expect(
      parseTracingConfig({
        ...ENDPOINT,
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20general, x-tenant = acme ,x-b64=YWJj==',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20traces',
      }).exporter,
    ).toMatchObject({
      headers: { authorization: 'Bearer traces', 'x-tenant': 'acme', 'x-b64': 'YWJj==' },
    });
  });

  it('reads the timeout, the traces-specific one first', () => {
    expect(parseTracingConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }).exporter).toMatchObject({
      timeoutMs: 2500,
    });
    expect(
      parseTracingConfig({
        ...ENDPOINT,
        OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '700',
      }).exporter,
    ).toMatchObject({ timeoutMs: 700 });
  });

  it('reads the service name and resource attributes, OTEL_SERVICE_NAME first', () => {
    const attributes = 'service.name=from-attributes,deployment.environment.name=prod,team=a%2Cb';
    expect(parseTracingConfig({ OTEL_RESOURCE_ATTRIBUTES: attributes })).toMatchObject({
      serviceName: 'from-attributes',
      resourceAttributes: { 'deployment.environment.name': 'prod', team: 'a,b' },
    });
    expect(
      parseTracingConfig({ OTEL_RESOURCE_ATTRIBUTES: attributes, OTEL_SERVICE_NAME: 'gateway-eu' })
        .serviceName,
    ).toBe('gateway-eu');
  });

  it('reads the sampler and its ratio; the argument is ignored by samplers without one', () => {
    for (const name of ['always_on', 'always_off', 'parentbased_always_on', 'parentbased_always_off']) {
      expect(
        parseTracingConfig({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: 'junk' }).sampler,
      ).toEqual({
        name,
        ratio: 1,
      });
    }
    expect(
      parseTracingConfig({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }).sampler,
    ).toEqual({ name: 'traceidratio', ratio: 0.25 });
    expect(parseTracingConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio' }).sampler).toEqual({
      name: 'parentbased_traceidratio',
      ratio: 1,
    });
  });

  it('accepts the HTTP protocols (spans are sent as JSON either way)', () => {
    for (const protocol of ['http/json', 'http/protobuf']) {
      expect(parseTracingConfig({ ...ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: protocol }).exporter.kind).toBe(
        'otlp',
      );
    }
  });

  it('names every bad variable', () => {
    const message = problemsOf({
      OTEL_SDK_DISABLED: 'maybe',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_TIMEOUT: '0',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      OTEL_RESOURCE_ATTRIBUTES: 'a=1,=2',
      OTEL_TRACES_SAMPLER: 'sometimes',
    });
    expect(message).toContain('OTEL_SDK_DISABLED must be true or false');
    expect(message).toContain('OTEL_TRACES_EXPORTER must be one of otlp, console, none');
    expect(message).toContain('OTEL_EXPORTER_OTLP_TIMEOUT must be at least 1');
    expect(message).toContain(
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be http/json or http/protobuf (grpc is not',
    );
    expect(message).toContain('OTEL_RESOURCE_ATTRIBUTES entry 2 is not key=value');
    expect(message).toContain('OTEL_TRACES_SAMPLER must be one of always_on, always_off, traceidratio');
  });

  it.each(['-0.1', '1.5', 'half', ''])('refuses a sampler ratio of %j', (arg) => {
    const env = { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: arg };
    if (arg === '') {
      // Empty means unset: the default ratio 1.
      expect(parseTracingConfig(env).sampler.ratio).toBe(1);
      return;
    }
    expect(problemsOf(env)).toContain(
      'OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 for traceidratio',
    );
  });

  it('refuses bad endpoints without echoing them (a URL may carry a token)', () => {
    const message = problemsOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318?token=s3cr3t',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x/s3cr3t',
    });
    expect(message).toContain('OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http(s) URL');
    expect(message).toContain('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an absolute http(s) URL');
    expect(message).not.toContain('s3cr3t');
  });

  it.each([
    ['a bare token', 'Bearer s3cr3t'],
    ['a bad percent-encoding', 'authorization=Bearer%zzs3cr3t'],
    ['an encoded line break (header injection)', 'authorization=s3cr3t%0D%0Ax-evil=1'],
    ['an invalid header name', 'bad name=s3cr3t'],
    ['an empty name', '=s3cr3t'],
  ])('refuses headers with %s, naming the variable and entry but never the value', (_label, headers) => {
    for (const key of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
      const message = problemsOf({ ...ENDPOINT, [key]: `x-ok=fine,${headers}` });
      expect(message).toContain(`${key} entry 2 is not key=value`);
      expect(message).not.toContain('s3cr3t');
      expect(message).not.toContain('fine');
    }
  });
});
