import { readFileSync } from 'node:fs';
// ajv is CommonJS: the named export is the class under Node's ESM loader and under vitest alike
// (the default export is the whole module object when Node loads it).
import { Ajv2020 } from 'ajv/dist/2020.js';

/** Validates documents against one JSON Schema (draft 2020-12); returns the problems, empty when valid. */
export type Validate = (doc: unknown) => string[];

/**
 * Compiles a draft 2020-12 JSON Schema file with ajv in strict mode (a schema ajv finds dubious fails to
 * compile), except `strictRequired`, which also refuses the usual `then: { anyOf: [{ required: [...] }] }`.
 */
export function schemaValidator(schemaPath: string): Validate {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  const validate = ajv.compile(schema);
  return (doc) => {
    if (validate(doc)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}`);
  };
}
