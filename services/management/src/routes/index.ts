/** Every route group of the management service; a new group is one more line here. */
import type { Implementation, ServiceContext } from '@shallot/core';
import { echoRoutes } from './echo.js';
import { sessionRoutes } from './session.js';

export function managementRoutes(ctx: ServiceContext): Implementation[] {
  return [...sessionRoutes(ctx.store), ...echoRoutes()];
}
