export { managementPlugin, type ManagementOptions } from './plugin.js';
export { ADMIN_USERNAME, type AdminSeed, seedAdmin, seedDefaults } from './seed.js';
