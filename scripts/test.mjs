#!/usr/bin/env node
// Runs every package's tap tests and ends with one line: "N passed, N failed" (leaf assertions, from tap's TAP output).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const args = ['exec', 'tap', '--reporter=tap', ...process.argv.slice(2)];
const child = spawn('pnpm', args, { stdio: ['ignore', 'pipe', 'inherit'] });

let passed = 0;
let failed = 0;
let skipped = 0;
// A result line right after a deeper plan line closes a subtest: count only leaf assertions, but count a failed
// subtest that reported no failing assertion of its own (a file that crashed before any test, a timeout).
let lastPlanIndent = -1;
const failedAtSubtestStart = [];
const reader = createInterface({ input: child.stdout });
reader.on('line', (line) => {
  process.stdout.write(`${line}\n`);
  const indent = line.length - line.trimStart().length;
  const text = line.trimStart();
  if (text.startsWith('# Subtest')) {
    failedAtSubtestStart.push(failed);
    return;
  }
  if (/^1\.\.\d+/.test(text)) {
    lastPlanIndent = indent;
    return;
  }
  const result = /^(not )?ok \d+/.exec(text);
  if (!result) return;
  const closesSubtest = lastPlanIndent > indent;
  lastPlanIndent = -1;
  if (closesSubtest) {
    const before = failedAtSubtestStart.pop();
    if (result[1] && before === failed) failed++;
    return;
  }
  if (/# SKIP/i.test(text)) skipped++;
  else if (result[1]) failed++;
  else passed++;
});

child.on('close', (code) => {
  const skippedPart = skipped ? `, ${skipped} skipped` : '';
  process.stdout.write(`${passed} passed, ${failed} failed${skippedPart}\n`);
  process.exit(code ?? 1);
});
