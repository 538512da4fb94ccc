/** The one interface every job plugin (shell, HTTP, test, …) implements. */
import type { JobRecord } from '@shallot/core';

/** Fields a plugin may report while running (xyOps plugin protocol, data-structures §7). */
export type JobUpdate = Record<string, unknown>;

export interface PluginRun {
  job: JobRecord;
  /** The plugin definition (command, script, params defaults). */
  plugin: Record<string, unknown>;
  /** Decrypted secrets for the environment: never logged, never stored on the job. */
  secrets: Record<string, string>;
  /** Output that is not protocol: appended to the job log. */
  log(text: string): void;
  /** Protocol updates (progress, status, data, files, perf, table, html, …), merged into the job. */
  update(fields: JobUpdate): void;
  /** Aborted (user, limit, shutdown): the plugin stops and resolves. */
  signal: AbortSignal;
  /** A scratch directory for this job, removed afterwards. */
  tempDir: string;
}

/** How a plugin run ended; a missing code means success unless the signal aborted it. */
export interface PluginResult {
  code: number | string;
  description?: string;
  /** Final protocol fields (data, files, perf, …) of the completion line. */
  fields?: JobUpdate;
}

export interface JobPlugin {
  /** The pseudo-command it implements, e.g. `[shell-plugin]`. */
  readonly command: string;
  run(run: PluginRun): Promise<PluginResult>;
}
