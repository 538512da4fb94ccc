export { searchPlugin } from './plugin.js';
