/**
 * @module validation: what the fake API server refuses, as the real one would: schema violations (checked
 * with `kubernetes-models`), unknown fields under `fieldValidation=Strict` (checked against the client's
 * generated model type maps), invalid names and labels, a StatefulSet selector that does not match its
 * template, changes to immutable fields, and EndpointSlice rules (a known, immutable address type, at most 1000
 * endpoints of 1–100 addresses of that type, DNS-label hostnames).
 */
import * as k8s from '@kubernetes/client-node';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { EndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1/EndpointSlice';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { JsonObject, KubeObject, Plural } from './object-store.js';

/** One reason an object is invalid. */
export interface Cause {
  readonly field: string;
  readonly message: string;
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const MODEL_OF: Record<Plural, string> = {
  pods: 'V1Pod',
  services: 'V1Service',
  statefulsets: 'V1StatefulSet',
  secrets: 'V1Secret',
  endpointslices: 'V1EndpointSlice',
};

interface AttributeType {
  readonly baseName: string;
  readonly type: string;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function attributesOf(typeName: string): readonly AttributeType[] | undefined {
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeType[] }>)[typeName];
  return typeof model?.getAttributeTypeMap === 'function' ? model.getAttributeTypeMap() : undefined;
}

function unknownFields(value: unknown, typeName: string, path: string, out: string[]): void {
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) {
    if (Array.isArray(value))
      value.forEach((item, i) => unknownFields(item, array[1] ?? '', `${path}[${i}]`, out));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (map) {
    if (isObject(value))
      for (const [k, v] of Object.entries(value)) unknownFields(v, map[1] ?? '', `${path}.${k}`, out);
    return;
  }
  const attributes = attributesOf(typeName);
  if (!attributes || !isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (!attribute) out.push(`${path ? `${path}.` : ''}${key}`);
    else unknownFields(child, attribute.type, `${path ? `${path}.` : ''}${key}`, out);
  }
}

/** Fields of a request body that no version of the kind defines (the `Strict` field validation). */
export function findUnknownFields(plural: Plural, body: unknown): string[] {
  const out: string[] = [];
  unknownFields(body, MODEL_OF[plural], '', out);
  return out;
}

function schemaCauses(plural: Plural, object: KubeObject): Cause[] {
  const model =
    plural === 'statefulsets'
      ? new StatefulSet(object as never)
      : plural === 'services'
        ? new Service(object as never)
        : plural === 'secrets'
          ? new Secret(object as never)
          : plural === 'endpointslices'
            ? new EndpointSlice(object as never)
            : new Pod(object as never);
  try {
    model.validate();
    return [];
  } catch (err) {
    return [{ field: '', message: err instanceof Error ? err.message : String(err) }];
  }
}

function mapCauses(field: string, map: Record<string, string> | undefined, checkValues: boolean): Cause[] {
  const causes: Cause[] = [];
  for (const [key, value] of Object.entries(map ?? {})) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : '';
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if (
      (prefix && (!DNS_1123_SUBDOMAIN.test(prefix) || prefix.length > 253)) ||
      !LABEL_NAME.test(name) ||
      name.length > 63
    )
      causes.push({
        field: `${field}`,
        message: `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and be at most 63 characters`,
      });
    if (checkValues && (!LABEL_VALUE.test(value) || value.length > 63))
      causes.push({
        field: `${field}`,
        message: `Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and be at most 63 characters`,
      });
  }
  return causes;
}

function nameCauses(plural: Plural, name: string): Cause[] {
  if (plural === 'services') {
    return DNS_1035_LABEL.test(name) && name.length <= 63
      ? []
      : [
          {
            field: 'metadata.name',
            message: `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character`,
          },
        ];
  }
  return DNS_1123_SUBDOMAIN.test(name) && name.length <= 253 && DNS_1123_LABEL.test(name.split('.')[0] ?? '')
    ? []
    : [
        {
          field: 'metadata.name',
          message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
        },
      ];
}

const STATEFULSET_MUTABLE = new Set([
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
]);

function statefulSetCauses(object: KubeObject, previous: KubeObject | undefined): Cause[] {
  const causes: Cause[] = [];
  const spec = (object['spec'] ?? {}) as JsonObject;
  const selector = ((spec['selector'] ?? {}) as JsonObject)['matchLabels'] as
    Record<string, string> | undefined;
  const template = (spec['template'] ?? {}) as JsonObject;
  const labels = ((template['metadata'] ?? {}) as JsonObject)['labels'] as Record<string, string> | undefined;
  const replicas = spec['replicas'];
  if (typeof replicas === 'number' && replicas < 0)
    causes.push({
      field: 'spec.replicas',
      message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
    });
  if (!selector || Object.keys(selector).length === 0)
    causes.push({
      field: 'spec.selector',
      message: 'Invalid value: empty selector is invalid for statefulset',
    });
  else if (!Object.entries(selector).every(([k, v]) => labels?.[k] === v))
    causes.push({
      field: 'spec.template.metadata.labels',
      message: 'Invalid value: `selector` does not match template `labels`',
    });
  if (previous) {
    const before = (previous['spec'] ?? {}) as JsonObject;
    for (const key of new Set([...Object.keys(before), ...Object.keys(spec)])) {
      if (STATEFULSET_MUTABLE.has(key)) continue;
      if (JSON.stringify(before[key]) !== JSON.stringify(spec[key]))
        causes.push({
          field: 'spec',
          message: `Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden (${key})`,
        });
    }
  }
  return causes;
}

/** A Secret's data keys and base64 values, as the API server checks them. */
function secretCauses(object: KubeObject): Cause[] {
  const causes: Cause[] = [];
  for (const [key, value] of Object.entries((object['data'] ?? {}) as JsonObject)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253)
      causes.push({
        field: `data[${key}]`,
        message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      });
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
      causes.push({ field: `data[${key}]`, message: 'Invalid value: not base64-encoded' });
  }
  if (object['stringData'] !== undefined)
    causes.push({ field: 'stringData', message: 'this fake stores data only; write data (base64)' });
  return causes;
}

function serviceCauses(object: KubeObject, previous: KubeObject | undefined): Cause[] {
  const spec = (object['spec'] ?? {}) as JsonObject;
  const before = (previous?.['spec'] ?? {}) as JsonObject;
  if (previous && before['clusterIP'] !== undefined && spec['clusterIP'] !== before['clusterIP'])
    return [{ field: 'spec.clusterIP', message: 'Invalid value: field is immutable' }];
  return [];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The EndpointSlice rules the API server's validation adds to the schema. */
function endpointSliceCauses(object: KubeObject, previous: KubeObject | undefined): Cause[] {
  const causes: Cause[] = [];
  const addressType = object['addressType'];
  if (!['IPv4', 'IPv6', 'FQDN'].includes(String(addressType)))
    causes.push({ field: 'addressType', message: `Unsupported value: "${String(addressType)}"` });
  if (previous && previous['addressType'] !== addressType)
    causes.push({ field: 'addressType', message: 'Invalid value: field is immutable' });
  const endpoints = (object['endpoints'] ?? []) as JsonObject[];
  if (endpoints.length > 1000)
    causes.push({ field: 'endpoints', message: 'Too many: must have at most 1000 items' });
  endpoints.forEach((endpoint, i) => {
    const addresses = (endpoint['addresses'] ?? []) as string[];
    if (addresses.length === 0)
      causes.push({
        field: `endpoints[${i}].addresses`,
        message: 'Required value: must contain at least 1 address',
      });
    if (addresses.length > 100)
      causes.push({ field: `endpoints[${i}].addresses`, message: 'Too many: must have at most 100 items' });
    for (const address of addresses)
      if (addressType === 'IPv4' && !IPV4.test(address))
        causes.push({
          field: `endpoints[${i}].addresses`,
          message: `Invalid value: "${address}": must be a valid IPv4 address`,
        });
    const hostname = endpoint['hostname'];
    if (hostname !== undefined && !DNS_1123_LABEL.test(String(hostname)))
      causes.push({
        field: `endpoints[${i}].hostname`,
        message: `Invalid value: "${String(hostname)}": must be a DNS label`,
      });
  });
  const ports = (object['ports'] ?? []) as JsonObject[];
  if (ports.length > 20000)
    causes.push({ field: 'ports', message: 'Too many: must have at most 20000 items' });
  return causes;
}

/** Everything wrong with `object` (the stored result of a write); empty when it may be stored. */
export function validateObject(plural: Plural, object: KubeObject, previous?: KubeObject): Cause[] {
  return [
    ...nameCauses(plural, object.metadata.name),
    ...mapCauses('metadata.labels', object.metadata.labels, true),
    ...mapCauses('metadata.annotations', object.metadata.annotations, false),
    ...(plural === 'statefulsets' ? statefulSetCauses(object, previous) : []),
    ...(plural === 'services' ? serviceCauses(object, previous) : []),
    ...(plural === 'secrets' ? secretCauses(object) : []),
    ...(plural === 'endpointslices' ? endpointSliceCauses(object, previous) : []),
    ...schemaCauses(plural, object),
  ];
}
