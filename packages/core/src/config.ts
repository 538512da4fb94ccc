/** Typed configuration from environment variables, with the defaults an embedded install needs. */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseWebhookAllowList } from './ssrf.js';

/** Each setting: its environment variable, its schema and its default. */
const SETTINGS = {
  host: { env: 'SHALLOT_HOST', schema: Type.String({ minLength: 1 }), default: '127.0.0.1' },
  port: { env: 'SHALLOT_PORT', schema: Type.Integer({ minimum: 0, maximum: 65535 }), default: 8080 },
  dataDir: { env: 'SHALLOT_DATA_DIR', schema: Type.String({ minLength: 1 }), default: './data' },
  store: {
    env: 'SHALLOT_STORE',
    schema: Type.Union([Type.Literal('sqlite'), Type.Literal('elasticsearch'), Type.Literal('opensearch')]),
    default: 'sqlite',
  },
  elasticsearchUrl: { env: 'ELASTICSEARCH_URL', schema: Type.String(), default: '' },
  opensearchUrl: { env: 'OPENSEARCH_URL', schema: Type.String(), default: '' },
  elasticsearchPrefix: { env: 'SHALLOT_ES_PREFIX', schema: Type.String({ pattern: '^[a-z0-9_-]*$' }), default: 'shallot-' },
  redisUrl: { env: 'REDIS_URL', schema: Type.String(), default: '' },
  redisPrefix: { env: 'SHALLOT_REDIS_PREFIX', schema: Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), default: 'shallot' },
  secretKey: { env: 'SHALLOT_SECRET_KEY', schema: Type.String(), default: '' },
  adminPassword: { env: 'SHALLOT_ADMIN_PASSWORD', schema: Type.String(), default: '' },
  serverId: { env: 'SHALLOT_SERVER_ID', schema: Type.String({ pattern: '^[A-Za-z0-9_.-]*$' }), default: '' },
  logLevel: {
    env: 'SHALLOT_LOG_LEVEL',
    schema: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    default: 'info',
  },
  bodyLimit: { env: 'SHALLOT_BODY_LIMIT', schema: Type.Integer({ minimum: 1024 }), default: 32 * 1024 * 1024 },
  rateLimitPerMinute: { env: 'SHALLOT_RATE_LIMIT', schema: Type.Integer({ minimum: 0 }), default: 0 },
  /** `/api/user/*` (login, password recovery, account administration): on by default, per client address. */
  userRateLimitPerMinute: { env: 'SHALLOT_USER_RATE_LIMIT', schema: Type.Integer({ minimum: 0 }), default: 60 },
  /** How long logins as one user from one address stay locked after too many failures. */
  loginLockoutSeconds: { env: 'SHALLOT_LOGIN_LOCKOUT_SECONDS', schema: Type.Integer({ minimum: 1 }), default: 3600 },
  /**
   * Whom to believe about the client address (X-Forwarded-For): `true`, `false`, a hop count, or the
   * addresses/CIDRs of the proxies (comma list). Empty: the deployment's default (the suite and the gateway face
   * clients: nobody; a separate service believes the one hop the gateway appends, never a client's own claim).
   */
  trustProxy: { env: 'SHALLOT_TRUST_PROXY', schema: Type.String({ maxLength: 4096 }), default: '' },
  sessionDays: { env: 'SHALLOT_SESSION_DAYS', schema: Type.Integer({ minimum: 1 }), default: 365 },
  shutdownTimeoutMs: { env: 'SHALLOT_SHUTDOWN_TIMEOUT_MS', schema: Type.Integer({ minimum: 0 }), default: 10_000 },
  heartbeatSeconds: { env: 'SHALLOT_HEARTBEAT_SECONDS', schema: Type.Integer({ minimum: 1 }), default: 10 },
  scheduler: { env: 'SHALLOT_SCHEDULER', schema: Type.Boolean(), default: true },
  /** This job-runner turns scheduled launches (the `schedule.launch` queue) into jobs; any runner may. */
  scheduleLaunches: { env: 'SHALLOT_SCHEDULE_LAUNCHES', schema: Type.Boolean(), default: true },
  /** Gap between scheduled launches due at the same second (xyOps `scheduler_stagger_ms`). */
  schedulerStaggerMs: { env: 'SHALLOT_SCHEDULER_STAGGER_MS', schema: Type.Integer({ minimum: 0, maximum: 60_000 }), default: 50 },
  timezone: { env: 'SHALLOT_TZ', schema: Type.String({ maxLength: 100 }), default: '' },
  publicUrl: { env: 'SHALLOT_PUBLIC_URL', schema: Type.String(), default: '' },
  corsOrigins: { env: 'SHALLOT_CORS_ORIGINS', schema: Type.String(), default: '' },
  webhookAllow: { env: 'SHALLOT_WEBHOOK_ALLOW', schema: Type.String(), default: '' },
  smtpUrl: { env: 'SHALLOT_SMTP_URL', schema: Type.String(), default: '' },
  mailFrom: { env: 'SHALLOT_MAIL_FROM', schema: Type.String(), default: 'shallot@localhost' },
  /** Internal hosts, IPs or CIDRs a task-monitor app's Celery broker may be on (brokers are usually internal). */
  brokerAllow: { env: 'SHALLOT_BROKER_ALLOW', schema: Type.String(), default: '' },
  agentSecret: { env: 'SHALLOT_AGENT_SECRET', schema: Type.String(), default: '' },
  agentSecretOrg: { env: 'SHALLOT_AGENT_SECRET_ORG', schema: Type.String(), default: '' },
  leekAutoCreateApps: { env: 'SHALLOT_LEEK_AUTO_CREATE_APPS', schema: Type.Boolean(), default: false },
  ingestWriteThread: { env: 'SHALLOT_INGEST_WRITE_THREAD', schema: Type.Boolean(), default: true },
  /**
   * Search engines: `wait_for` answers an agent's batch once searches see it; `false` once it is durable (searchable
   * within the refresh interval), several times faster per batch.
   */
  ingestRefresh: {
    env: 'SHALLOT_INGEST_REFRESH',
    schema: Type.Union([Type.Literal('wait_for'), Type.Literal('false')]),
    default: 'wait_for',
  },
  leekAllowedOrgs: { env: 'SHALLOT_LEEK_ALLOWED_ORGS', schema: Type.String(), default: '' },
  ingestUrl: { env: 'SHALLOT_INGEST_URL', schema: Type.String(), default: 'http://127.0.0.1:8081' },
  searchUrl: { env: 'SHALLOT_SEARCH_URL', schema: Type.String(), default: 'http://127.0.0.1:8082' },
  managementUrl: { env: 'SHALLOT_MANAGEMENT_URL', schema: Type.String(), default: 'http://127.0.0.1:8083' },
  jobRunnerUrl: { env: 'SHALLOT_JOB_RUNNER_URL', schema: Type.String(), default: 'http://127.0.0.1:8084' },
} as const;

type Settings = typeof SETTINGS;
export type Config = { -readonly [K in keyof Settings]: Static<Settings[K]['schema']> };

/** Every environment variable Shallot reads (deployment files may set only these). */
export const CONFIG_ENV_VARS: readonly string[] = Object.values(SETTINGS).map((s) => s.env);

/** Fastify's `trustProxy`: whom to believe about the client address. */
export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/** Believe the nearest `hops` proxies: the client is the address the farthest of them saw. */
export const trustHops =
  (hops: number): TrustProxy =>
  (_address: string, hop: number) =>
    hop < hops;

/**
 * `SHALLOT_TRUST_PROXY` as Fastify's `trustProxy`: `true`, `false`, a hop count, or proxy addresses/CIDRs;
 * `fallback` when unset.
 */
export function trustProxyOf(setting: string, fallback: TrustProxy): TrustProxy {
  const value = setting.trim();
  if (value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d{1,3}$/.test(value)) return trustHops(Number(value));
  return value;
}

export class ConfigError extends Error {
  readonly kind = 'config';
}

/** Reads the configuration; an invalid value fails with the variable's name and what it expects. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const config: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) {
    if (key in overrides) {
      config[key] = overrides[key as keyof Config];
      continue;
    }
    const raw = env[setting.env];
    if (raw === undefined || raw === '') {
      config[key] = setting.default;
      continue;
    }
    const value = Value.Convert(setting.schema, raw);
    if (!Value.Check(setting.schema, value)) {
      const first = Value.Errors(setting.schema, value).First();
      throw new ConfigError(`${setting.env}=${JSON.stringify(raw)} is invalid: ${first?.message ?? 'unexpected value'}`);
    }
    config[key] = value;
  }
  // Checked here so a bad entry stops startup with one sentence naming the variable, not a stack trace later.
  try {
    parseWebhookAllowList(config.webhookAllow as string);
  } catch (error) {
    throw new ConfigError(`SHALLOT_WEBHOOK_ALLOW is invalid: ${(error as Error).message.replace(/^web hook allow list: /, '')}`);
  }
  return config as Config;
}
