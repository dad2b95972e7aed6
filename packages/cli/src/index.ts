// The `vfiokit` command, embeddable: build the commander program with injected output, or run
// it to an exit status. The process entry is src/bin.ts (bin/vfiokit.mjs launches it).

export { ANALYZE_JSON_SCHEMA } from './analyze/schema.js';
export { ANALYZE_FORMATS, type AnalyzeFormat, renderAnalysis } from './commands/analyze.js';
export { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE } from './exit-status.js';
export { InputError } from './input-error.js';
export type { ProgramIo, Writer } from './io.js';
export { createProgram, runProgram } from './program.js';
export { VERSION } from './version.js';
