/** Every route group of the management service; a new group is one more line here. */
import type { Implementation, ServiceContext } from '@shallot/core';
import { applicationRoutes } from './applications.js';
import { categoryRoutes } from './categories.js';
import { definitionRoutes } from './definitions.js';
import { echoRoutes } from './echo.js';
import { globalStateRoutes } from './global-state.js';
import { eventRoutes } from './events.js';
import { leekControlRoutes } from './leek-control.js';
import { roleRoutes } from './roles.js';
import { type IdentityOptions, identityRoutes } from './identities.js';
import { tagRoutes } from './tags.js';

export function managementRoutes(ctx: ServiceContext, options: IdentityOptions = {}): Implementation[] {
  return [
    ...identityRoutes(ctx, options),
    ...echoRoutes(),
    ...globalStateRoutes(ctx),
    ...categoryRoutes(ctx),
    ...definitionRoutes(ctx),
    ...eventRoutes(ctx),
    ...tagRoutes(ctx),
    ...roleRoutes(ctx),
    ...applicationRoutes(ctx),
    ...leekControlRoutes(ctx),
  ];
}
