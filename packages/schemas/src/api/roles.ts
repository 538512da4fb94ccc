/** Roles (api-sections §2). */
import { crudApi } from '../crud.js';
import { Role } from '../records/role.js';

export const rolesApi = crudApi({
  singular: 'role',
  plural: 'roles',
  idPrefix: 'r',
  record: Role,
  privileges: { create: 'create_roles', edit: 'edit_roles', delete: 'delete_roles' },
});
