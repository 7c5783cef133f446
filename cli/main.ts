#!/usr/bin/env node
// followme: what Pulumi does not do. The commands are in program.ts.
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
