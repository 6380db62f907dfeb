#!/usr/bin/env node
// Committed shim: npm links it at install time, before `prepare` has built dist/.
import '../dist/bin.js';
