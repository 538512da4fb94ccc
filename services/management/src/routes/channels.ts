/** Notification channels (seed 001 §Channels): not scoped, no reference checks. */
import type { ServiceContext } from '@shallot/core';
import { channelsApi } from '@shallot/schemas';
import { crudRoutes } from '../crud/index.js';

export function channelRoutes(ctx: ServiceContext) {
  return crudRoutes(channelsApi, ctx, {
    defaults: { enabled: true, users: [], email: '', web_hook: '', run_event: '', sound: '', max_per_day: 0, icon: '', notes: '' },
  });
}
