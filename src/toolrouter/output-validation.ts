/**
 * @module output-validation: checks a tool server's JSON answer against the tool's declared `outputSchema`, with
 * the MCP SDK's JSON Schema validator (AJV on Node; the edge injects the Workers one, since AJV compiles code at
 * run time). A compiled schema is kept as long as its definition object lives, i.e. until the catalog reloads.
 */
import type { JsonSchemaType, jsonSchemaValidator } from '@modelcontextprotocol/server';

/** Why `value` breaks `schema`, or undefined when it conforms (or the schema cannot be compiled: not the tool's fault at call time). */
export type OutputValidator = (schema: object, value: unknown) => string | undefined;

/** Builds an {@link OutputValidator} over an SDK validator provider. */
export function createOutputValidator(provider: jsonSchemaValidator): OutputValidator {
  const compiled = new WeakMap<object, ((value: unknown) => string | undefined) | null>();
  return (schema, value) => {
    let check = compiled.get(schema);
    if (check === undefined) {
      try {
        const validate = provider.getValidator(schema as JsonSchemaType);
        check = (input) => {
          const result = validate(input);
          return result.valid ? undefined : result.errorMessage;
        };
      } catch {
        check = null;
      }
      compiled.set(schema, check);
    }
    return check === null ? undefined : check(value);
  };
}
