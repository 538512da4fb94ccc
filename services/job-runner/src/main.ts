/** Runs the job-runner service alone. */
import { runService } from '@shallot/core';
import { jobRunnerPlugin } from './plugin.js';

await runService({ service: 'job-runner', defaultPort: 8084, plugin: jobRunnerPlugin });
