#!/usr/bin/env node
// The process entry of `vfiokit`: real stdout/stderr, and the status as process.exitCode
// (not process.exit(), which could cut off output still queued for a pipe).
import { runProgram } from './program.js';

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  // `vfiokit dts x.dtb | head`: the reader left; stop quietly as cat does.
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// No top-level await: the same entry is also built as CommonJS (dist/bin.cjs).
void runProgram(process.argv.slice(2), {
  stdout: (chunk) => process.stdout.write(chunk),
  stderr: (chunk) => process.stderr.write(chunk),
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  exit: (status) => {
    process.exitCode = status;
  },
});
