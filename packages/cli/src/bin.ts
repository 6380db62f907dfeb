#!/usr/bin/env node
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2));
// `serve` and `demo` keep running; every other command ends here.
if (!['serve', 'demo'].includes(process.argv[2] ?? '') || code !== 0) process.exit(code);
