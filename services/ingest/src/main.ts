/** Runs the ingest service alone. */
import { runService } from '@shallot/core';
import { ingestPlugin } from './plugin.js';

await runService({ service: 'ingest', defaultPort: 8081, plugin: ingestPlugin });
