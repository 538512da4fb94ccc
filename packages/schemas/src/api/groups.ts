/** Server groups (seed 001 §Groups): ordered, scoped by id, with multi_update_group for sort order, watches and snapshots. */
import { Type } from '@sinclair/typebox';
import { DefinitionId, crudApi } from '../crud.js';
import { type ApiDescriptor, defineApi } from '../descriptor.js';
import { Group } from '../records/group.js';
import { Ok, OkEmpty } from '../responses.js';

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

/** The longest watch accepted: 30 days (a watch snapshots once per minute). */
export const MAX_GROUP_WATCH_SECONDS = 30 * 86400;

export const watchGroup = defineApi({
  name: 'watch_group',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'create_snapshots',
  summary: 'Start or stop a watch on a group: a snapshot once per minute for the given duration (0 cancels)',
  params: Type.Object({
    id: DefinitionId,
    duration: Type.Integer({ minimum: 0, maximum: MAX_GROUP_WATCH_SECONDS, description: 'Seconds; 0 cancels the watch' }),
  }),
  response: OkEmpty,
});

export const createGroupSnapshot = defineApi({
  name: 'create_group_snapshot',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'create_snapshots',
  summary: "Create a snapshot of a group from its servers' most recent data",
  params: Type.Object({ group: DefinitionId }),
  response: Ok({ id: Type.String({ description: 'The new GroupSnapshot id' }) }),
});

export const GROUPS_API: ApiDescriptor[] = [...groupsApi.all, multiUpdateGroups, watchGroup, createGroupSnapshot];
