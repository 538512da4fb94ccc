/** The job plugins this runner can run, by their pseudo-command. */
import type { WebhookGuard } from '@shallot/core';
import { httpPlugin } from './http.js';
import { shellPlugin } from './shell.js';
import { testPlugin } from './test.js';
import type { JobPlugin } from './types.js';

export type { JobPlugin, PluginResult, PluginRun } from './types.js';

export function jobPlugins(guard: WebhookGuard): Map<string, JobPlugin> {
  return new Map([shellPlugin, testPlugin, httpPlugin(guard)].map((p) => [p.command, p]));
}
