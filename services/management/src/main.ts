/** Runs the management service alone. */
import { runService } from '@shallot/core';
import { managementPlugin } from './plugin.js';

await runService({ service: 'management', defaultPort: 8083, plugin: managementPlugin });
