/** Identities: sessions, users (self-service and administration), settings and avatars, API keys. */
import { type Implementation, type ServiceContext, blobStoreFor } from '@shallot/core';
import { type Mailer, loggingMailer } from '../mail.js';
import { apiKeyRoutes } from './api-keys.js';
import { sessionRoutes } from './session.js';
import { userSettingsRoutes } from './user-settings.js';
import { userRoutes } from './users.js';

export interface IdentityOptions {
  /** Account e-mail (recovery keys, notices). @default logs that a message would be sent */
  mailer?: Mailer;
}

export function identityRoutes(ctx: ServiceContext, options: IdentityOptions = {}): Implementation[] {
  const deps = { ctx, blobs: blobStoreFor(ctx.config), mailer: options.mailer ?? loggingMailer() };
  return [...sessionRoutes(ctx), ...userRoutes(deps), ...userSettingsRoutes(deps), ...apiKeyRoutes(ctx)];
}
