export { ingestPlugin } from './plugin.js';
