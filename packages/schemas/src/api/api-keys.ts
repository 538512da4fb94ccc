/** API keys (api-sections §10): administrators only; `create_api_key` answers the plain key once. */
import { crudApi } from '../crud.js';
import { ApiKey } from '../records/api-key.js';

export const apiKeysApi = crudApi({
  singular: 'api_key',
  plural: 'api_keys',
  type: 'apikey',
  collection: 'api_keys',
  idPrefix: 'k',
  record: ApiKey,
  title: 'API keys',
  privileges: { read: 'admin', create: 'admin', edit: 'admin', delete: 'admin' },
});
