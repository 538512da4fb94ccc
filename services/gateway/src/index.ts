export { edgePlugin, type EdgeOptions } from './edge.js';
export { gatewayPlugin } from './plugin.js';
export { proxyPlugin, type ProxyOptions, type Upstreams } from './proxy.js';
