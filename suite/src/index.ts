export { buildSuite, type SuiteOptions } from './suite.js';
export { findOrStartRedis, type RedisForSuite } from './redis-server.js';
