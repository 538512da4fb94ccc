/** Every API descriptor of the suite, in one list: the gateway, the services and the docs read it. */
import type { ApiDescriptor } from '../descriptor.js';
import { LEEK_APPLICATION_API } from '../leek/applications-api.js';
import { LEEK_CONTROL_API } from '../leek/control-api.js';
import { LEEK_EVENTS_API } from '../leek/events-api.js';
import { LEEK_SEARCH_API } from '../leek/search-api.js';
import { categoriesApi } from './categories.js';
import { DEFINITIONS_API } from './definitions.js';
import { echo, ping } from './echo.js';
import { GLOBAL_STATE_API } from './global-state.js';
import { EVENTS_API } from './events.js';
import { JOBS_API } from './jobs.js';
import { rolesApi } from './roles.js';
import { tagsApi } from './tags.js';
import { apiKeysApi } from './api-keys.js';
import { USER_NAMESPACE_API, login, logout, resumeSession } from './user.js';
import { USERS_APP_API } from './users.js';

export * from './alerts.js';
export * from './buckets.js';
export * from './channels.js';
export * from './groups.js';
export * from './monitors.js';
export * from './plugins.js';
export * from './secrets.js';
export * from './web-hooks.js';
export * from './categories.js';
export * from './definitions.js';
export * from './echo.js';
export * from './global-state.js';
export * from './events.js';
export * from './jobs.js';
export * from './roles.js';
export * from './tags.js';
export * from './user.js';
export * from './users.js';
export * from './api-keys.js';

export const API: readonly ApiDescriptor[] = [
  login,
  logout,
  resumeSession,
  echo,
  ping,
  ...GLOBAL_STATE_API,
  ...categoriesApi.all,
  ...DEFINITIONS_API,
  ...EVENTS_API,
  ...JOBS_API,
  ...tagsApi.all,
  ...rolesApi.all,
  ...USER_NAMESPACE_API,
  ...USERS_APP_API,
  ...apiKeysApi.all,
  ...LEEK_EVENTS_API,
  ...LEEK_APPLICATION_API,
  ...LEEK_SEARCH_API,
  ...LEEK_CONTROL_API,
];
