/**
 * Agent authentication (leek-agent-protocol §2, §3): the `x-leek-*` headers name the org and app; the key must be the
 * app's own key, or the shared agent secret when the app belongs to the org that secret is scoped to. Keys are
 * compared in constant time.
 */
import { type Config, LeekError, applicationOf, findLeekApplication, safeEqual } from '@shallot/core';
import { LEEK_APPLICATIONS, type LeekApplication, isAppEnv, isAppName, isOrgName, leekScope } from '@shallot/schemas';
import { LEEK_INDEX_SPECS, type Store, StoreError } from '@shallot/store';
import type { FastifyRequest } from 'fastify';

export interface AgentHeaders {
  org: string;
  app: string;
  key: string;
  /** Only POST requires it. */
  env: string | undefined;
}

export interface AgentTarget {
  org: string;
  app: string;
  env: string;
  scope: string;
  application: LeekApplication;
}

/** @default description of apps an agent created */
export const AUTO_CREATED_DESCRIPTION = 'Created automatically by an agent';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Reads and validates the agent headers: 400 `400001` when one is missing, 400 `400002` when malformed. */
export function agentHeaders(request: FastifyRequest, needEnv: boolean): AgentHeaders {
  const org = header(request, 'x-leek-org-name');
  const app = header(request, 'x-leek-app-name');
  const key = header(request, 'x-leek-app-key');
  const env = header(request, 'x-leek-app-env');
  const missing = [
    org === undefined && 'x-leek-org-name',
    app === undefined && 'x-leek-app-name',
    key === undefined && 'x-leek-app-key',
    needEnv && env === undefined && 'x-leek-app-env',
  ].filter((h): h is string => typeof h === 'string');
  if (missing.length > 0) throw new LeekError('headerMissing', `Missing header${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  if (!isOrgName(org)) throw new LeekError('invalid', 'x-leek-org-name is not a valid organisation name');
  if (!isAppName(app)) throw new LeekError('invalid', 'x-leek-app-name must be lower-case letters only');
  if (env !== undefined && !isAppEnv(env)) throw new LeekError('invalid', 'x-leek-app-env must be lower-case letters only');
  return { org, app, key: key as string, env };
}

/** The shared agent secret opens the apps of one org only, and only when both are configured. */
function isAgentSecret(config: Pick<Config, 'agentSecret' | 'agentSecretOrg'>, org: string, key: string): boolean {
  return config.agentSecret !== '' && config.agentSecretOrg !== '' && org === config.agentSecretOrg && safeEqual(key, config.agentSecret);
}

export function keyMatches(
  config: Pick<Config, 'agentSecret' | 'agentSecretOrg'>,
  application: LeekApplication,
  org: string,
  key: string,
): boolean {
  // Both comparisons always run: the answer time does not tell which one matched.
  const own = safeEqual(key, application.app_key);
  const shared = isAgentSecret(config, org, key);
  return own || shared;
}

/**
 * The app an agent request is for: 404 `404001` when absent (or created on the fly, see `autoCreate`), 401 `401001`
 * on a wrong key, 503 `503001` when the store does not answer.
 */
export async function authenticateAgent(
  store: Store,
  config: Pick<Config, 'agentSecret' | 'agentSecretOrg' | 'leekAutoCreateApps'>,
  headers: AgentHeaders,
  options: { autoCreate: boolean },
): Promise<AgentTarget> {
  const { org, app, key } = headers;
  let record = await findLeekApplication(store, org, app);
  if (record === undefined && options.autoCreate && config.leekAutoCreateApps && isAgentSecret(config, org, key)) {
    await autoCreate(store, org, app, config.agentSecret);
    record = await findLeekApplication(store, org, app);
  }
  if (record === undefined) throw new LeekError('appNotFound', `Application "${app}" does not exist in "${org}"`);
  const application = applicationOf(record);
  if (!keyMatches(config, application, org, key)) throw new LeekError('wrongAppKey', 'Wrong application key');
  return { org, app, env: headers.env ?? '', scope: leekScope(org, app), application };
}

/**
 * Readiness auto-create (protocol §3 row 6): only with SHALLOT_LEEK_AUTO_CREATE_APPS on and the agent presenting the
 * shared secret of that org, so nobody creates apps elsewhere. The app's key is the shared secret and its owner
 * "public". A concurrent create of the same app is fine (the caller re-reads it).
 */
async function autoCreate(store: Store, org: string, app: string, secret: string): Promise<void> {
  const id = leekScope(org, app);
  for (const spec of LEEK_INDEX_SPECS) await store.indexes.dropScope(spec.name, id);
  const application: LeekApplication = {
    org,
    app_name: app,
    app_description: AUTO_CREATED_DESCRIPTION,
    app_key: secret,
    owner: 'public',
    created_at: Date.now(),
    fo_triggers: [],
  };
  try {
    await store.collections.create(LEEK_APPLICATIONS, { id, ...application });
  } catch (error) {
    if (!(error instanceof StoreError && error.kind === 'conflict')) throw error;
  }
}
