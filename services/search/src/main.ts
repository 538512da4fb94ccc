/** Runs the search service alone. */
import { runService } from '@shallot/core';
import { searchPlugin } from './plugin.js';

await runService({ service: 'search', defaultPort: 8082, plugin: searchPlugin });
