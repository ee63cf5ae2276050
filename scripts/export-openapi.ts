/**
 * Writes openapi.json (the document the gateway serves) and the client types generated from it.
 * Run after changing a control-plane schema: `npm run openapi:export`. A test fails while either drifts.
 */
import { writeFileSync } from 'node:fs';
import {
  CLIENT_SCHEMA_PATH,
  OPENAPI_PATH,
  packageVersion,
  renderClientSchema,
  renderOpenApiDocument,
} from '../test/openapi-artifacts.js';

const root = new URL('../', import.meta.url);
const document = await renderOpenApiDocument(packageVersion(root));
writeFileSync(new URL(OPENAPI_PATH, root), document);
writeFileSync(new URL(CLIENT_SCHEMA_PATH, root), await renderClientSchema(document));
console.log(`wrote ${OPENAPI_PATH} and ${CLIENT_SCHEMA_PATH}`);
