/** Notification channels (seed 001 §Channels). */
import { crudApi } from '../crud.js';
import { Channel } from '../records/channel.js';

export const channelsApi = crudApi({
  singular: 'channel',
  plural: 'channels',
  idPrefix: 'ch',
  record: Channel,
  privileges: { create: 'create_channels', edit: 'edit_channels', delete: 'delete_channels' },
});

export const CHANNELS_API = channelsApi.all;
