/**
 * The container deployment as files: docker-compose.yml must be valid for Debian's docker-compose, every container
 * must have a healthcheck, the gateway must publish 8080 in front of the four services, and a Shallot container may
 * set only the environment variables Shallot reads. The Dockerfile must have one target per service.
 * No Docker engine is needed: `docker-compose config` only reads and validates the file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CONFIG_ENV_VARS } from '@shallot/core';
import t from 'tap';
import { parse } from 'yaml';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
const DOCKERFILE = join(ROOT, 'Dockerfile');
const SECRET = 'compose-test-shared-secret';

const SERVICES = { gateway: 8080, ingest: 8081, search: 8082, management: 8083, 'job-runner': 8084 } as const;
type ServiceName = keyof typeof SERVICES;
const UPSTREAM_VARS: Record<Exclude<ServiceName, 'gateway'>, string> = {
  ingest: 'SHALLOT_INGEST_URL',
  search: 'SHALLOT_SEARCH_URL',
  management: 'SHALLOT_MANAGEMENT_URL',
  'job-runner': 'SHALLOT_JOB_RUNNER_URL',
};

interface ComposeService {
  image?: string;
  build?: string | { context?: string; target?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { published?: string | number; target?: string | number })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

// An empty env file, so that a developer's own .env next to docker-compose.yml cannot change what is checked.
const scratch = mkdtempSync(join(tmpdir(), 'shallot-compose-'));
const EMPTY_ENV_FILE = join(scratch, 'empty.env');
writeFileSync(EMPTY_ENV_FILE, '');
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

/** `docker-compose <args>` in the repo root; a missing binary fails the test (CI installs it). */
async function compose(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  const options = { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 };
  try {
    return await run('docker-compose', ['--env-file', EMPTY_ENV_FILE, '-f', COMPOSE_FILE, ...args], options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'docker-compose is not installed: .ci/run installs it (Debian package docker-compose: apt-get install -y docker-compose)',
      );
    }
    throw error;
  }
}

/** The environment with no SHALLOT_* of the caller's own leaking into the interpolation. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!CONFIG_ENV_VARS.includes(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

function environment(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

function publishedPorts(service: ComposeService): number[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return Number(port.published);
    // Short syntax: [host_ip:]published:target[/protocol]
    const parts = String(port).split('/')[0]?.split(':') ?? [];
    return Number(parts.length >= 2 ? parts[parts.length - 2] : parts[0]);
  });
}

function buildTarget(service: ComposeService): string | undefined {
  return typeof service.build === 'object' ? service.build.target : undefined;
}

let config: ComposeFile;

t.before(async () => {
  const { stdout } = await compose(['config'], cleanEnv({ SHALLOT_SECRET_KEY: SECRET }));
  config = parse(stdout) as ComposeFile;
});

t.test('compose: docker-compose accepts the file', async (t) => {
  const { stdout } = await compose(['config', '--services'], cleanEnv({ SHALLOT_SECRET_KEY: SECRET }));
  const names = stdout.split('\n').filter(Boolean).sort();
  // opensearch is listed with its profile (docker-compose lists profiled services; `up` starts them only with the profile).
  t.same(names, ['elasticsearch', 'gateway', 'ingest', 'job-runner', 'management', 'opensearch', 'redis', 'search']);
  t.type(config.services, 'object', 'the resolved file parses as YAML');
});

t.test('compose: the opensearch profile adds an OpenSearch node that SHALLOT_STORE=opensearch uses', async (t) => {
  const env = cleanEnv({ SHALLOT_SECRET_KEY: SECRET, SHALLOT_STORE: 'opensearch' });
  const { stdout: services } = await compose(['--profile', 'opensearch', 'config', '--services'], env);
  t.ok(services.split('\n').includes('opensearch'), 'the profile lists the opensearch service');
  const { stdout } = await compose(['--profile', 'opensearch', 'config'], env);
  const withProfile = parse(stdout) as ComposeFile;
  t.match(withProfile.services.opensearch?.image, /^opensearchproject\/opensearch:2\.\d+\.\d+$/);
  t.ok(withProfile.services.opensearch?.healthcheck?.test, 'opensearch has a healthcheck');
  for (const name of Object.keys(SERVICES)) {
    const vars = environment(withProfile.services[name] ?? {});
    t.equal(vars.SHALLOT_STORE, 'opensearch', `${name} uses the opensearch store`);
    t.equal(vars.OPENSEARCH_URL, 'http://opensearch:9200', `${name} reaches opensearch`);
  }
});

t.test('compose: without SHALLOT_SECRET_KEY the file refuses to resolve', async (t) => {
  await t.rejects(compose(['config', '-q'], cleanEnv({})), /SHALLOT_SECRET_KEY/);
});

t.test('compose: every service has a healthcheck', async (t) => {
  for (const [name, service] of Object.entries(config.services)) {
    const test = service.healthcheck?.test;
    t.ok(test && test.length > 0 && !service.healthcheck?.disable, `${name} has a healthcheck`);
    t.not(Array.isArray(test) ? test[0] : test, 'NONE', `${name}'s healthcheck is not disabled`);
  }
});

t.test('compose: redis, elasticsearch and one container per Shallot service', async (t) => {
  t.match(config.services.redis?.image, /^redis:7/);
  t.match(config.services.elasticsearch?.image, /^docker\.elastic\.co\/elasticsearch\/elasticsearch:8\.19\.\d+$/);
  for (const name of Object.keys(SERVICES)) {
    t.equal(buildTarget(config.services[name] ?? {}), name, `${name} is built from the Dockerfile target ${name}`);
  }
});

t.test('compose: the gateway publishes 8080 and routes to the service containers', async (t) => {
  const gateway = config.services.gateway ?? {};
  t.ok(publishedPorts(gateway).includes(8080), 'gateway publishes 8080');
  const env = environment(gateway);
  for (const [service, variable] of Object.entries(UPSTREAM_VARS)) {
    const port = SERVICES[service as ServiceName];
    t.equal(env[variable], `http://${service}:${port}`, `${variable} points at the ${service} container`);
  }
  for (const name of Object.keys(SERVICES)) {
    if (name === 'gateway') continue;
    t.same(publishedPorts(config.services[name] ?? {}), [], `${name} is reachable only through the gateway`);
  }
});

t.test('compose: dependencies wait for healthy containers', async (t) => {
  for (const name of Object.keys(SERVICES)) {
    const dependsOn = config.services[name]?.depends_on;
    t.ok(dependsOn && !Array.isArray(dependsOn), `${name} uses depends_on conditions`);
    if (!dependsOn || Array.isArray(dependsOn)) continue;
    const needed =
      name === 'gateway' ? ['redis', 'elasticsearch', 'ingest', 'search', 'management', 'job-runner'] : ['redis', 'elasticsearch'];
    for (const dependency of needed) {
      t.equal(dependsOn[dependency]?.condition, 'service_healthy', `${name} waits for ${dependency} to be healthy`);
    }
  }
});

t.test('compose: Shallot containers set only variables Shallot reads, with one shared secret', async (t) => {
  const known = new Set(CONFIG_ENV_VARS);
  t.ok(known.size >= 20, 'CONFIG_ENV_VARS lists the configuration');
  for (const name of Object.keys(SERVICES)) {
    const env = environment(config.services[name] ?? {});
    for (const variable of Object.keys(env)) {
      t.ok(known.has(variable), `${name} sets ${variable}, which Shallot reads`);
    }
    t.equal(env.SHALLOT_STORE, 'elasticsearch', `${name} uses the elasticsearch store`);
    t.equal(env.ELASTICSEARCH_URL, 'http://elasticsearch:9200', `${name} reaches elasticsearch`);
    t.equal(env.REDIS_URL, 'redis://redis:6379', `${name} reaches redis`);
    t.equal(env.SHALLOT_HOST, '0.0.0.0', `${name} listens on every interface`);
    t.equal(env.SHALLOT_PORT, String(SERVICES[name as ServiceName]), `${name} listens on its default port`);
    t.equal(env.SHALLOT_SECRET_KEY, SECRET, `${name} signs with the shared SHALLOT_SECRET_KEY`);
  }
});

t.test('Dockerfile: one target per service, each running its own main.js', async (t) => {
  const dockerfile = readFileSync(DOCKERFILE, 'utf8');
  // Each stage: its FROM line up to the next FROM.
  const stages = new Map<string, string>();
  const pattern = /^FROM\s+\S+\s+AS\s+([\w.-]+)\s*$/gim;
  const matches = [...dockerfile.matchAll(pattern)];
  matches.forEach((match, i) => {
    const end = matches[i + 1]?.index ?? dockerfile.length;
    stages.set((match[1] ?? '').toLowerCase(), dockerfile.slice(match.index, end));
  });
  t.match(dockerfile, /^FROM\s+\$\{NODE_IMAGE\}|^FROM\s+node:24/m, 'built on Node');
  t.match(dockerfile, /^ARG NODE_IMAGE=node:24[\w.-]*$/m, 'Node 24 LTS base image');
  for (const [name, port] of Object.entries(SERVICES)) {
    const stage = stages.get(name);
    t.ok(stage, `Dockerfile has a ${name} target`);
    if (!stage) continue;
    t.match(stage, new RegExp(`^CMD \\["node", "services/${name}/dist/main\\.js"\\]`, 'm'), `${name} runs its main.js`);
    t.match(stage, new RegExp(`^EXPOSE ${port}$`, 'm'), `${name} exposes ${port}`);
  }
  t.ok(stages.get('suite')?.includes('CMD ["node", "suite/dist/main.js"]'), 'suite target runs the embedded deployment');
  t.match(dockerfile, /^USER node$/m, 'runs as a non-root user');
  t.match(dockerfile, /^HEALTHCHECK /m, 'images have a healthcheck');
  t.match(dockerfile, /SHALLOT_HOST=0\.0\.0\.0/, 'containers listen on every interface');
});
