export { type JobRunnerOptions, type NotificationOptions, jobRunnerPlugin } from './plugin.js';
export { onlineServers, registerServer, serverIdFor, type ServerRecord } from './server-registry.js';
export * from './scheduler/index.js';
export type { SchedulerSettings } from './plugin.js';
