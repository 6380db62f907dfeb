export { type CliIO, EXIT } from './io.js';
export { buildProgram, runCli } from './program.js';
export { CLI_VERSION } from './version.js';
