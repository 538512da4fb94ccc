/** The definition sections of the REST API beyond categories/tags/roles: one list for the API table. */
import type { ApiDescriptor } from '../descriptor.js';
import { ALERTS_API } from './alerts.js';
import { BUCKETS_API } from './buckets.js';
import { CHANNELS_API } from './channels.js';
import { GROUPS_API } from './groups.js';
import { MONITORS_API } from './monitors.js';
import { PLUGINS_API } from './plugins.js';
import { SECRETS_API } from './secrets.js';
import { WEB_HOOKS_API } from './web-hooks.js';

export const DEFINITIONS_API: readonly ApiDescriptor[] = [
  ...ALERTS_API,
  ...BUCKETS_API,
  ...CHANNELS_API,
  ...GROUPS_API,
  ...MONITORS_API,
  ...PLUGINS_API,
  ...SECRETS_API,
  ...WEB_HOOKS_API,
];
