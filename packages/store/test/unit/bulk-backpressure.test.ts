// Bulk requests split by size, and 429 back-pressure retried: the cluster is the real OpenSearch (OPENSEARCH_URL)
// behind a loopback proxy that answers the first bulk requests with 429, as a node with a full write queue does.
import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { BULK_CHUNK_BYTES, chunkDocs } from '../../src/elasticsearch/indexes.js';
import { ElasticsearchStore, type Store, openStore } from '../../src/index.js';

t.test('chunkDocs: at most maxDocs documents and about maxBytes per chunk, order kept', async (t) => {
  const docs = Array.from({ length: 10 }, (_, i) => ({ id: String(i), pad: 'x'.repeat(90) }));
  const size = Buffer.byteLength(JSON.stringify(docs[0]));
  t.same(
    chunkDocs(docs, 4, 1e9).map((c) => c.length),
    [4, 4, 2],
  );
  t.same(
    chunkDocs(docs, 100, size * 3).map((c) => c.length),
    [3, 3, 3, 1],
  );
  t.same(chunkDocs(docs, 100, 1).length, 10, 'a document larger than the limit goes alone');
  t.same(chunkDocs(docs, 4, size * 3).flat(), docs, 'nothing lost or reordered');
  t.same(chunkDocs([], 4, 10), []);
  t.ok(BULK_CHUNK_BYTES <= 16 * 1024 * 1024, 'chunks stay far below http.max_content_length');
});

const url = process.env.OPENSEARCH_URL;
t.test(
  'a bulk upsert rejected with 429 is sent again and every document is written once',
  { skip: url ? false : 'OPENSEARCH_URL is not set' },
  async (t) => {
    if (!url) return;
    const target = new URL(url);
    let rejectBulks = 2;
    let bulks = 0;
    const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.includes('_bulk')) {
        bulks++;
        if (rejectBulks > 0) {
          rejectBulks--;
          req.resume();
          res.writeHead(429, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { type: 'es_rejected_execution_exception', reason: 'write queue full' }, status: 429 }));
          return;
        }
      }
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise((resolve) => proxy.close(resolve)));
    const prefix = `shallot-test-backpressure-${Date.now().toString(36)}-`;
    const store: Store = await openStore({
      engine: 'opensearch',
      url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      prefix,
      refresh: true,
      maxRetries: 0,
    });
    t.teardown(async () => {
      const cleaner = await openStore({ engine: 'opensearch', url, prefix });
      if (cleaner instanceof ElasticsearchStore) {
        const names = await cleaner.client.indices.names(`${prefix}*`);
        if (names.length > 0) await cleaner.client.indices.delete({ index: names });
        await cleaner.client.indices.deleteIndexTemplate({ name: `${prefix}*` }).catch(() => undefined);
      }
      await cleaner.close();
      await store.close();
    });
    await store.indexes.ensure({ name: 'bp', fields: { n: 'number' } });
    const docs = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, n: i }));
    t.same(await store.indexes.bulkUpsert('bp', '', docs), { written: 50, unchanged: 0 });
    t.equal(bulks, 3, 'two 429 answers, then the request went through');
    t.equal(await store.indexes.count('bp', ''), 50, 'every document stored once');
    rejectBulks = 100;
    await t.rejects(
      store.indexes.bulkUpsert('bp', '', docs),
      { name: 'StoreError', kind: 'unavailable' },
      'a cluster that keeps refusing is unavailable, not a hang',
    );
  },
);
