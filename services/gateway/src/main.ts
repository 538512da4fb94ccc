/** Runs the gateway alone, in front of separately deployed services. */
import { runService } from '@shallot/core';
import { gatewayPlugin } from './plugin.js';

await runService({ service: 'gateway', defaultPort: 8080, plugin: gatewayPlugin });
