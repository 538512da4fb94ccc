#!/usr/bin/env node
// Runs every package's tap tests and ends with one line: "N passed, N failed" (leaf assertions, from tap's TAP output).
// Unless OPENSEARCH_URL is given, it first starts a local OpenSearch cluster (scripts/opensearch.mjs) when Java and
// Maven are present, so the store contract, the task-monitor e2e and the Leek merge cases also run on OpenSearch;
// without them it says what it skipped and why. A summary of what ran on OpenSearch precedes the last line.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { openSearchTools, startOpenSearch } from './opensearch.mjs';

let cluster;
const env = { ...process.env };
if (process.env.OPENSEARCH_URL) {
  process.stdout.write(`# opensearch: using OPENSEARCH_URL=${process.env.OPENSEARCH_URL}\n`);
} else {
  const missing = openSearchTools();
  if (missing === undefined) {
    cluster = await startOpenSearch({ log: (line) => process.stdout.write(`# ${line}\n`) });
    env.OPENSEARCH_URL = cluster.url;
  } else {
    process.stdout.write(
      `# opensearch: SKIPPED the OpenSearch runs of the store contract, the task-monitor e2e and the Leek merge cases: ${missing}\n`,
    );
  }
}
if (!env.ELASTICSEARCH_URL) process.stdout.write('# elasticsearch: ELASTICSEARCH_URL is not set: the Elasticsearch runs are skipped\n');

const args = ['exec', 'tap', '--reporter=tap', ...process.argv.slice(2)];
const child = spawn('pnpm', args, { stdio: ['ignore', 'pipe', 'inherit'], env });
const stopCluster = () => cluster?.stop();
process.once('SIGINT', () => stopCluster()?.then(() => process.exit(130)));
process.once('SIGTERM', () => stopCluster()?.then(() => process.exit(143)));

// Leaf results inside an "opensearch" subtest (or one whose name starts "opensearch:"), per test file.
const onOpenSearch = new Map();
const names = [];
let file = '';

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
    const name = text.replace(/^# Subtest:?\s*/, '');
    if (indent === 0) file = name;
    names.push({ name, indent });
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
  // Subtest headers sit at the indent of their own result line: deeper or equal ones are over now.
  const ancestors = names.filter((n) => n.indent < indent);
  names.splice(ancestors.length);
  if (closesSubtest) {
    const before = failedAtSubtestStart.pop();
    if (result[1] && before === failed) failed++;
    return;
  }
  const kind = /# SKIP/i.test(text) ? 'skipped' : result[1] ? 'failed' : 'passed';
  if (kind === 'skipped') skipped++;
  else if (kind === 'failed') failed++;
  else passed++;
  if (ancestors.some(({ name }) => name === 'opensearch' || name.startsWith('opensearch:'))) {
    const counts = onOpenSearch.get(file) ?? { passed: 0, failed: 0, skipped: 0 };
    counts[kind]++;
    onOpenSearch.set(file, counts);
  }
});

child.on('close', async (code) => {
  await stopCluster();
  if (env.OPENSEARCH_URL) {
    process.stdout.write(
      `# run against OpenSearch at ${env.OPENSEARCH_URL}${cluster ? ` (${cluster.nodes} nodes, OpenSearch ${cluster.version})` : ''}:\n`,
    );
    for (const [name, c] of [...onOpenSearch].sort()) {
      process.stdout.write(`#   ${name}: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}\n`);
    }
    if (onOpenSearch.size === 0) process.stdout.write('#   nothing ran against OpenSearch\n');
  }
  const skippedPart = skipped ? `, ${skipped} skipped` : '';
  process.stdout.write(`${passed} passed, ${failed} failed${skippedPart}\n`);
  process.exit(code ?? 1);
});
