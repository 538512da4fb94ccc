export { managementPlugin, type ManagementOptions } from './plugin.js';
export { ADMIN_USERNAME, type AdminSeed, seedAdmin } from './seed.js';
