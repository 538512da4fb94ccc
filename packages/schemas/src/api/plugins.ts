/** Plugins (api-sections §1): CRUD; update answers the full record. */
import { crudApi } from '../crud.js';
import { Plugin } from '../records/plugin.js';

export const pluginsApi = crudApi({
  singular: 'plugin',
  plural: 'plugins',
  idPrefix: 'p',
  record: Plugin,
  privileges: { create: 'create_plugins', edit: 'edit_plugins', delete: 'delete_plugins' },
  updateReturnsRecord: true,
});

export const PLUGINS_API = pluginsApi.all;
