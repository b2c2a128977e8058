/**
 * The versions a stored index is of (schema.ts): kept apart, without sql.js, so the CLI's thin entry
 * can tell a scan manifest of another version without loading the store's code. When to bump
 * them: see schema.ts.
 */
export const SCHEMA_VERSION = 11;
export const PARSER_VERSION = 9;
