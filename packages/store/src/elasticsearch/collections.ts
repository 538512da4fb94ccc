/** Collections on Elasticsearch: one index per collection (`<prefix>c-<collection>`), writes with `refresh: DEFINITION_REFRESH`. */
import type { estypes } from '@elastic/elasticsearch';
import { StoreError } from '../errors.js';
import { checkPage } from '../query/check.js';
import { DEFAULT_LIST_LIMIT, checkCreate, checkListOptions, nowSeconds, ownFields, toRecord } from '../records.js';
import type { CollectionRecord, Collections, Doc, ListOptions, Page } from '../types.js';
import { checkId, checkName, isFieldPath } from '../validate.js';
import type { EsContext } from './context.js';
import { esReason, statusOf } from './errors.js';
import { COLLECTION_MAPPINGS } from './mappings.js';

/**
 * Collections hold definitions (apps, triggers, users, settings): few writes, each read back at once by another
 * request. A forced refresh makes the write visible before it returns; 'wait_for' would wait for the next periodic
 * refresh (up to a second per write, which made start-up seeding exceed the plugin timeout).
 */
const DEFINITION_REFRESH = true;

/** How often update re-reads and retries when another writer got in between (without expectRevision). */
const UPDATE_ATTEMPTS = 10;

export class EsCollections implements Collections {
  readonly #es: EsContext;
  readonly #created = new Map<string, Promise<void>>();

  constructor(es: EsContext) {
    this.#es = es;
  }

  #index(collection: string): string {
    return `${this.#es.prefix}c-${checkName('collection', collection)}`;
  }

  #ensureIndex(index: string): Promise<void> {
    let created = this.#created.get(index);
    if (created === undefined) {
      created = this.#es
        .call(`create index ${index}`, async () => {
          const exists = await this.#es.client.indices.exists({ index });
          if (!exists) {
            await this.#es.client.indices.create({ index, mappings: COLLECTION_MAPPINGS }).catch((error: unknown) => {
              if (
                statusOf(error) === 400 &&
                /resource_already_exists/.test(String(esReason((error as { body?: unknown }).body)) + String(error))
              )
                return;
              throw error;
            });
          }
        })
        .catch((error: unknown) => {
          this.#created.delete(index);
          throw error;
        });
      this.#created.set(index, created);
    }
    return created;
  }

  async #read(collection: string, id: string): Promise<{ record: CollectionRecord; seqNo: number; primaryTerm: number } | undefined> {
    const index = this.#index(collection);
    const response = await this.#es.orMissing(
      `get ${collection} "${id}"`,
      () => this.#es.client.get<CollectionRecord>({ index, id }),
      undefined,
    );
    if (response === undefined || !response.found || response._source === undefined) return undefined;
    return { record: response._source, seqNo: response._seq_no ?? 0, primaryTerm: response._primary_term ?? 0 };
  }

  async get(collection: string, id: string): Promise<CollectionRecord | undefined> {
    return (await this.#read(collection, checkId(id, 'record')))?.record;
  }

  async list(collection: string, options: ListOptions = {}): Promise<Page<CollectionRecord>> {
    checkListOptions(collection, options);
    const { offset, limit } = checkPage(options.offset, options.limit, DEFAULT_LIST_LIMIT);
    const filter: estypes.QueryDslQueryContainer[] = Object.entries(options.where ?? {}).map(([field, value]) => ({
      term: { [field]: { value } },
    }));
    const sort: estypes.SortCombinations[] = (options.sort ?? []).map((s) => {
      if (!isFieldPath(s.field))
        throw new StoreError('invalid', `sort field ${JSON.stringify(s.field)} is invalid: use dot-separated identifiers`);
      return { [s.field]: { order: s.order, missing: s.missing ?? '_last', unmapped_type: 'keyword' } };
    });
    sort.push({ id: { order: 'asc' } });
    const response = await this.#es.call(`list ${collection}`, () =>
      this.#es.client.search<CollectionRecord>({
        index: this.#index(collection),
        query: { bool: { filter } },
        sort,
        from: offset,
        size: limit,
        track_total_hits: true,
        ignore_unavailable: true,
        allow_no_indices: true,
      }),
    );
    const total = typeof response.hits.total === 'number' ? response.hits.total : (response.hits.total?.value ?? 0);
    return { rows: response.hits.hits.flatMap((h) => (h._source === undefined ? [] : [h._source])), total };
  }

  async create(collection: string, record: Doc): Promise<CollectionRecord> {
    const { id, fields } = checkCreate(collection, record);
    const index = this.#index(collection);
    await this.#ensureIndex(index);
    const now = nowSeconds();
    const created = toRecord(fields, { id, revision: 1, created: now, modified: now });
    try {
      await this.#es.client.index({ index, id, document: created, op_type: 'create', refresh: DEFINITION_REFRESH });
    } catch (error) {
      if (statusOf(error) === 409)
        throw new StoreError('conflict', `${collection} "${id}" already exists: update it, or create it under another id`);
      throw this.#es.error(`create ${collection} "${id}"`, error);
    }
    return created;
  }

  async update(
    collection: string,
    id: string,
    patch: Record<string, unknown>,
    options: { expectRevision?: number } = {},
  ): Promise<CollectionRecord> {
    checkId(id, 'record');
    const changes = ownFields(patch, 'patch');
    const index = this.#index(collection);
    for (let attempt = 1; ; attempt++) {
      const current = await this.#read(collection, id);
      if (current === undefined) throw new StoreError('notfound', `${collection} "${id}" does not exist`);
      const { record } = current;
      if (options.expectRevision !== undefined && options.expectRevision !== record.revision) {
        throw new StoreError(
          'conflict',
          `${collection} "${id}" is at revision ${record.revision}, not ${options.expectRevision}: someone else changed it; reload and retry`,
        );
      }
      const updated = toRecord(
        { ...ownFields(record, 'record'), ...changes },
        { id, revision: record.revision + 1, created: record.created, modified: nowSeconds() },
      );
      try {
        await this.#es.client.index({
          index,
          id,
          document: updated,
          if_seq_no: current.seqNo,
          if_primary_term: current.primaryTerm,
          refresh: DEFINITION_REFRESH,
        });
        return updated;
      } catch (error) {
        if (statusOf(error) !== 409) throw this.#es.error(`update ${collection} "${id}"`, error);
        if (options.expectRevision !== undefined || attempt >= UPDATE_ATTEMPTS) {
          throw new StoreError('conflict', `${collection} "${id}" was changed by someone else during the update: reload and retry`);
        }
      }
    }
  }

  async patchMany(collection: string, patches: Array<{ id: string; fields: Record<string, unknown> }>): Promise<number> {
    const index = this.#index(collection);
    const checked = patches.map((p) => ({ id: checkId(p?.id, 'record'), fields: ownFields(p.fields, 'fields') }));
    if (checked.length === 0) return 0;
    const operations = checked.flatMap(({ id, fields }) => [{ update: { _index: index, _id: id, retry_on_conflict: 5 } }, { doc: fields }]);
    const response = await this.#es.orMissing(
      `patch ${collection}`,
      () => this.#es.client.bulk({ operations, refresh: DEFINITION_REFRESH }),
      undefined,
    );
    if (response === undefined) return 0;
    let patched = 0;
    for (const item of response.items) {
      const result = item.update;
      if (result === undefined || result.status === 404) continue;
      if (result.error !== undefined)
        throw new StoreError('unavailable', `patching ${collection} "${result._id}" failed: ${result.error.reason ?? result.error.type}`);
      patched++;
    }
    return patched;
  }

  async delete(collection: string, id: string): Promise<boolean> {
    const index = this.#index(collection);
    checkId(id, 'record');
    const response = await this.#es.orMissing(
      `delete ${collection} "${id}"`,
      () => this.#es.client.delete({ index, id, refresh: DEFINITION_REFRESH }),
      undefined,
    );
    return response?.result === 'deleted';
  }
}
