/** @module control-routes: `/adapters` and `/tools`, composed from one shared resource router. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/index.js';
import { toAdapterResource, toAdapterSpec, toToolResource, toToolSpec } from './resource-mapping.js';
import { createResourceRoutes } from './resource-routes.js';
import type { KindDescriptor, ResourceRoutesOptions } from './resource-routes.js';
import { AdapterData, AdapterResource, ToolData, ToolResource } from './schemas.js';

export const ADAPTERS: KindDescriptor<'adapter', AdapterData, AdapterResource> = {
  kind: 'adapter',
  collection: 'adapters',
  label: 'Adapter',
  dataSchema: AdapterData,
  resourceSchema: AdapterResource,
  toSpec: toAdapterSpec,
  toResource: toAdapterResource,
};

export const TOOLS: KindDescriptor<'tool', ToolData, ToolResource> = {
  kind: 'tool',
  collection: 'tools',
  label: 'Tool',
  dataSchema: ToolData,
  resourceSchema: ToolResource,
  toSpec: toToolSpec,
  toResource: toToolResource,
};

/** Mounts the routes of every kind on `app`. */
export function mountControlRoutes(app: OpenAPIHono<AppEnv>, options: ResourceRoutesOptions): void {
  app.route('/', createResourceRoutes(ADAPTERS, options));
  app.route('/', createResourceRoutes(TOOLS, options));
}
