/**
 * The seeded test plugin (`[test-plugin]`): writes a little log, reports progress, waits `duration` seconds (0 is a
 * no-op job) and ends with the chosen result (Success, Error, Warning, Critical, Crash), in process.
 */
import type { JobPlugin } from './types.js';

const RESULTS: Record<string, { code: number | string; description?: string }> = {
  success: { code: 0 },
  error: { code: 999, description: 'Simulating an error message here.  Something went wrong!' },
  warning: { code: 'warning', description: 'Simulating a warning message here.' },
  critical: { code: 'critical', description: 'Simulating a critical error message here.' },
  crash: { code: 'error', description: 'Simulating a crash: the plugin died unexpectedly.' },
};

export const testPlugin: JobPlugin = {
  command: '[test-plugin]',
  async run(run) {
    const params = (run.job.params as Record<string, unknown>) ?? {};
    const duration = Math.max(0, Number(params.duration ?? 0) || 0);
    const result = RESULTS[String(params.action ?? 'Success').toLowerCase()] ?? RESULTS.success;
    run.log(`Test plugin starting: ${duration} second(s)\n`);
    if (typeof params.custom === 'string' && params.custom) run.log(`${params.custom}\n`);
    const steps = Math.min(10, Math.ceil(duration));
    for (let step = 1; step <= steps; step++) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, (duration / steps) * 1000);
        run.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      if (run.signal.aborted) return { code: 'abort', description: 'Aborted' };
      run.update({ progress: step / steps });
    }
    run.log('Test plugin done\n');
    return { ...(result as { code: number | string; description?: string }), fields: { data: { test: true, duration } } };
  },
};
