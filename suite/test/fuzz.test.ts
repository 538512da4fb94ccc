// The short form of `pnpm fuzz` (issue 8): a few hundred generated hostile requests against the all-in-one suite over
// real HTTP, asserting its invariants (no 5xx or crash, event loop, RSS, readable records afterwards).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Requests of the short run: ~30–60 s on a quiet 2-core machine. */
const REQUESTS = Number(process.env.SHALLOT_FUZZ_REQUESTS ?? 600);

t.test('hundreds of broken requests: no 5xx, no crash, no stall, nothing half-written', { timeout: 600_000 }, async (t) => {
  const child = spawn(
    process.execPath,
    // Latency on a shared test machine is not this suite's to judge (bench/ measures it): a generous per-request limit.
    ['bench/fuzz.mjs', '--requests', String(REQUESTS), '--concurrency', '4', '--seed', '8', '--max-ms', '5000', '--json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.comment(stderr.trim());
  const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  t.equal(summary.requests, REQUESTS, 'every request was sent');
  t.equal(summary.serverErrors, 0, `no 5xx: ${JSON.stringify(summary.failures)}`);
  t.equal(summary.crashed, false, 'the server is still up');
  t.equal(summary.consistencyErrors, 0, 'every list call answers afterwards');
  t.same(summary.broken, [], 'every invariant held');
  t.equal(code, 0);
});
