/** The definition-CRUD framework: see README.md in this folder. */
export { type CrudHooks, type Fields, type HookContext, type UpdateHookContext, crudRoutes, scanAll } from './routes.js';
export { byCategoryId, byGroupId, privilegeGrants } from './helpers.js';
