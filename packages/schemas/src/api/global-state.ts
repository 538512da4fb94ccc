/**
 * `get_global_state` / `update_global_state` (api-sections §10), also registered under the seed's names
 * `get_master_state` / `update_master_state`. The state holds `scheduler.enabled` (pause the scheduler with
 * `{"scheduler.enabled": false}`), the scheduler's leader and cursor, and each catch-up event's cursor.
 */
import { Type } from '@sinclair/typebox';
import { type ApiDescriptor, defineApi } from '../descriptor.js';
import { Ok, OkEmpty } from '../responses.js';

const getState = (name: string) =>
  defineApi({
    name,
    namespace: 'app',
    methods: ['GET', 'POST'],
    service: 'management',
    privilege: 'any',
    summary: 'The global runtime state: scheduler.enabled, the scheduler leader and cursor, events.<id>.cursor, …',
    params: Type.Object({}, { additionalProperties: true }),
    response: Ok({ state: Type.Record(Type.String(), Type.Unknown()) }),
  });

const updateState = (name: string) =>
  defineApi({
    name,
    namespace: 'app',
    methods: ['POST'],
    service: 'management',
    privilege: 'admin',
    summary: 'Set global state entries by dot path, e.g. {"scheduler.enabled": false} pauses the scheduler',
    params: Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { maxProperties: 100 }),
    response: OkEmpty,
  });

export const getGlobalState = getState('get_global_state');
export const updateGlobalState = updateState('update_global_state');
export const getMasterState = getState('get_master_state');
export const updateMasterState = updateState('update_master_state');

export const GLOBAL_STATE_API: readonly ApiDescriptor[] = [getGlobalState, updateGlobalState, getMasterState, updateMasterState];
