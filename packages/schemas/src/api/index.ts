/** Every API descriptor of the suite, in one list: the gateway, the services and the docs read it. */
import type { ApiDescriptor } from '../descriptor.js';
import { echo } from './echo.js';
import { login, logout, resumeSession } from './user.js';

export * from './echo.js';
export * from './user.js';

export const API: readonly ApiDescriptor[] = [login, logout, resumeSession, echo];
