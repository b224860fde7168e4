/**
 * The catalog parser's public entry; the parser itself is the folder ./catalog/ (index.ts reads
 * the top level and says where each section lives). A new top-level section or role key: a file
 * of its own there, wired in the validator with one call.
 */
export { type CatalogOptions, type CatalogResult, loadCatalog, parseCatalog } from './catalog/index.js';
