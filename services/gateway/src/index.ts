export { edgePlugin, type EdgeOptions, securityHeaders } from './edge.js';
export { gatewayPlugin, type GatewayOptions, upstreamsOf } from './plugin.js';
export { proxyPlugin, type ProxyOptions, type Upstreams } from './proxy.js';
