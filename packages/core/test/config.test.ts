import t from 'tap';
import { CONFIG_ENV_VARS, ConfigError, loadConfig } from '../src/config.js';

t.test('config: defaults give the embedded deployment', async (t) => {
  const config = loadConfig({});
  t.equal(config.port, 8080);
  t.equal(config.dataDir, './data');
  t.equal(config.store, 'sqlite');
  t.equal(config.redisPrefix, 'shallot');
});

t.test('config: environment values are converted to their types', async (t) => {
  const config = loadConfig({ SHALLOT_PORT: '9123', SHALLOT_STORE: 'elasticsearch', SHALLOT_BODY_LIMIT: '2048' });
  t.equal(config.port, 9123);
  t.equal(config.store, 'elasticsearch');
  t.equal(config.bodyLimit, 2048);
});

t.test('config: an invalid value fails with the variable name', async (t) => {
  t.throws(() => loadConfig({ SHALLOT_PORT: 'eighty' }), /SHALLOT_PORT="eighty" is invalid: Expected integer/);
  try {
    loadConfig({ SHALLOT_PORT: 'eighty' });
  } catch (error) {
    t.ok(error instanceof ConfigError, 'a ConfigError');
  }
  t.throws(() => loadConfig({ SHALLOT_STORE: 'mongodb' }), /SHALLOT_STORE="mongodb" is invalid/);
  t.throws(() => loadConfig({ SHALLOT_REDIS_PREFIX: 'a b' }), /SHALLOT_REDIS_PREFIX/);
});

t.test('config: overrides win over the environment', async (t) => {
  t.equal(loadConfig({ SHALLOT_PORT: '1' }, { port: 2 }).port, 2);
});

t.test('config: every variable is listed once', async (t) => {
  t.equal(new Set(CONFIG_ENV_VARS).size, CONFIG_ENV_VARS.length);
  t.ok(CONFIG_ENV_VARS.includes('REDIS_URL'));
  t.ok(CONFIG_ENV_VARS.includes('SHALLOT_DATA_DIR'));
});

t.test('config: SHALLOT_WEBHOOK_ALLOW takes host:port entries; a bad entry is a ConfigError naming the variable', async (t) => {
  t.equal(
    loadConfig({ SHALLOT_WEBHOOK_ALLOW: '127.0.0.1:8080,[::1]:8080,hooks.local:9000' }).webhookAllow,
    '127.0.0.1:8080,[::1]:8080,hooks.local:9000',
  );
  t.throws(
    () => loadConfig({ SHALLOT_WEBHOOK_ALLOW: '127.0.0.1:99999' }),
    /SHALLOT_WEBHOOK_ALLOW is invalid: "127.0.0.1:99999" has an invalid port/,
  );
  t.throws(() => loadConfig({ SHALLOT_WEBHOOK_ALLOW: 'a b' }), { kind: 'config', message: /SHALLOT_WEBHOOK_ALLOW/ });
});
