// The cluster adapter: what differs between Elasticsearch and OpenSearch, by name (product check, URL variable in
// messages, flattened mappings), and — against the real cluster when OPENSEARCH_URL is set — each client's envelope.
import t from 'tap';
import { ElasticsearchStore, checkProduct, createClusterClient, openStore } from '../../src/index.js';
import { rejectsWith } from '../fixtures/engines.js';

t.test('checkProduct: the distribution and the minimum version of each product', async (t) => {
  t.equal(checkProduct('opensearch', { version: { number: '2.19.1', distribution: 'opensearch' } }), undefined);
  t.equal(checkProduct('opensearch', { version: { number: '3.3.0', distribution: 'opensearch' } }), undefined);
  t.match(checkProduct('opensearch', { version: { number: '2.5.0', distribution: 'opensearch' } }), /too old.*2\.7/);
  t.match(
    checkProduct('opensearch', { version: { number: '8.19.0' } }),
    /elasticsearch 8\.19\.0, not opensearch: use SHALLOT_STORE=elasticsearch/,
  );
  t.equal(checkProduct('elasticsearch', { version: { number: '8.19.3' } }), undefined);
  t.match(checkProduct('elasticsearch', { version: { number: '7.17.0' } }), /too old/);
  t.match(checkProduct('elasticsearch', { version: { number: '2.19.1', distribution: 'opensearch' } }), /use SHALLOT_STORE=opensearch/);
});

t.test('an unreachable cluster is unavailable, naming the variable of its product', async (t) => {
  for (const [engine, variable] of [
    ['opensearch', /OpenSearch at .* is unavailable.*OPENSEARCH_URL/],
    ['elasticsearch', /Elasticsearch at .* is unavailable.*ELASTICSEARCH_URL/],
  ] as const) {
    const store = await openStore({ engine, url: 'http://127.0.0.1:1', requestTimeoutMs: 2000, maxRetries: 0 });
    t.teardown(() => store.close());
    t.equal(store.engine, engine);
    await rejectsWith(t, store.ping(), 'unavailable', variable, `${engine}: unavailable`);
  }
});

const url = process.env.OPENSEARCH_URL;
t.test(
  'against OpenSearch: the envelope is unwrapped, errors carry the status, the wrong client is refused',
  { skip: url ? false : 'OPENSEARCH_URL is not set' },
  async (t) => {
    if (!url) return;
    const client = createClusterClient('opensearch', { url, requestTimeoutMs: 10_000, maxRetries: 0 });
    t.teardown(() => client.close());
    const info = await client.info();
    t.equal(info.version.distribution, 'opensearch', 'info() answers the body, not { body, statusCode }');
    t.equal(await client.indices.exists({ index: 'shallot-unit-no-such-index' }), false, 'exists() is a boolean');
    const store = await openStore({ engine: 'opensearch', url, prefix: 'shallot-unit-' });
    t.teardown(() => store.close());
    await t.resolves(store.ping(), 'ping checks the product and version');
    t.ok(store instanceof ElasticsearchStore);
    await store.indexes.ensure({ name: 'missing', fields: { k: 'keyword' } });
    t.equal(await store.indexes.get('missing', 'none', 'x'), undefined, 'a 404 from the OpenSearch client is a missing document');
    const wrong = await openStore({ engine: 'elasticsearch', url, requestTimeoutMs: 5000, maxRetries: 0 });
    t.teardown(() => wrong.close());
    await rejectsWith(t, wrong.ping(), 'unavailable', /Elasticsearch/, 'the Elasticsearch client refuses OpenSearch (its product check)');
    await client.indices.deleteIndexTemplate({ name: 'shallot-unit-missing' }).catch(() => undefined);
  },
);
