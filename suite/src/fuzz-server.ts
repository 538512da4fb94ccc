/**
 * The all-in-one suite as the request fuzzer (bench/fuzz.mjs) runs it: a child process with an IPC channel that
 * answers its URL once listening, and on request its worst event-loop stall (perf_hooks.monitorEventLoopDelay) and
 * its RSS after a full garbage collection (run with --expose-gc). Configured by the usual SHALLOT_* variables.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { closeContext, loadConfig, openContext } from '@shallot/core';
import { findOrStartRedis } from './redis-server.js';
import { buildSuite } from './suite.js';

export type FuzzServerMessage = { type: 'stats' } | { type: 'reset' } | { type: 'stop' };
export interface FuzzServerStats {
  type: 'stats';
  /** Longest event-loop delay since the last reset, ms. */
  maxStallMs: number;
  /** Resident set size after a full collection. */
  rssBytes: number;
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('fuzz-server runs as a child of bench/fuzz.mjs (an IPC channel)');
  const config = loadConfig();
  const redis = await findOrStartRedis(config.redisUrl, config.dataDir);
  const ctx = await openContext({ ...config, redisUrl: redis.url });
  const app = await buildSuite(ctx);
  app.addHook('onClose', async () => {
    await closeContext(ctx);
    await redis.stop();
  });
  // Which requests were in flight when the loop stalled: the fuzzer prints them next to the stall.
  const inFlight = new Map<string, string>();
  app.addHook('onRequest', async (request) => {
    inFlight.set(request.id, `${request.method} ${request.url.slice(0, 160)}`);
  });
  app.addHook('onResponse', async (request) => {
    inFlight.delete(request.id);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const TICK_MS = 10;
  let lastTick = performance.now();
  let lastCpu = process.cpuUsage();
  let lastElu = performance.eventLoopUtilization();
  setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const elu = performance.eventLoopUtilization();
    const gapMs = now - lastTick - TICK_MS;
    // How much of the gap was ours: the loop running (not idle in its poll) AND the process on a CPU. Loop time alone
    // counts time the OS ran other processes; process CPU alone counts the pool (scrypt), GC and the write thread.
    const loopMs = performance.eventLoopUtilization(elu, lastElu).active;
    const processCpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    const cpuMs = Math.min(loopMs, processCpuMs);
    if (gapMs > 100) send({ type: 'stall', gapMs, cpuMs, loopMs, processCpuMs, inFlight: [...inFlight.values()].slice(0, 8) });
    lastTick = now;
    lastCpu = cpu;
    lastElu = elu;
  }, TICK_MS).unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (message: FuzzServerMessage) => {
    if (message.type === 'reset') delay.reset();
    else if (message.type === 'stats') {
      gc?.();
      // The histogram holds the delay past the resolution's expected wake-up, in nanoseconds.
      send({ type: 'stats', maxStallMs: delay.max / 1e6, rssBytes: process.memoryUsage().rss } satisfies FuzzServerStats);
    } else if (message.type === 'stop') {
      delay.disable();
      void app.close().then(() => process.exit(0));
    }
  });
  // The fuzzer gone (crashed, killed): no orphan server.
  process.on('disconnect', () => void app.close().finally(() => process.exit(1)));
  send({ type: 'ready', url: `http://127.0.0.1:${port}` });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
