/** @module Types of the non-JavaScript modules wrangler bundles into the worker (`[[rules]]` in wrangler.toml). */

/** A SQL migration, bundled as its text. */
declare module '*.sql' {
  const text: string;
  export default text;
}
