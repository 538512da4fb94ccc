/** Route groups of the definition sections: alerts, buckets, channels, groups, monitors, plugins, secrets, web hooks. */
import type { Implementation, ServiceContext } from '@shallot/core';
import { alertRoutes } from './alerts.js';
import { bucketRoutes } from './buckets.js';
import { channelRoutes } from './channels.js';
import { groupRoutes } from './groups.js';
import { monitorRoutes } from './monitors.js';
import { pluginRoutes } from './plugins.js';
import { secretRoutes } from './secrets.js';
import { webHookRoutes } from './web-hooks.js';

export function definitionRoutes(ctx: ServiceContext): Implementation[] {
  return [
    ...alertRoutes(ctx),
    ...bucketRoutes(ctx),
    ...channelRoutes(ctx),
    ...groupRoutes(ctx),
    ...monitorRoutes(ctx),
    ...pluginRoutes(ctx),
    ...secretRoutes(ctx),
    ...webHookRoutes(ctx),
  ];
}
