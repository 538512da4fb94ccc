/** Server groups (seed 001 §Groups): ordered, scoped by id, with multi_update_group for sort order. */
import { crudApi } from '../crud.js';
import type { ApiDescriptor } from '../descriptor.js';
import { Group } from '../records/group.js';

export const groupsApi = crudApi({
  singular: 'group',
  plural: 'groups',
  idPrefix: 'g',
  record: Group,
  privileges: { create: 'create_groups', edit: 'edit_groups', delete: 'delete_groups' },
  multiUpdate: true,
});

/** `multi_update_groups`: the plural spelling some clients use, same behaviour as multi_update_group. */
export const multiUpdateGroups = {
  ...(groupsApi.multiUpdate as ApiDescriptor),
  name: 'multi_update_groups',
  summary: 'Alias of multi_update_group',
};

export const GROUPS_API: ApiDescriptor[] = [...groupsApi.all, multiUpdateGroups];
