/**
 * Indexes on sqlite: a table `idx_<name>` per IndexSpec (scope, id, doc JSON, hot columns), a contentless FTS5 table
 * `fts_<name>` for text fields kept in sync by triggers, and merges run inside `BEGIN IMMEDIATE` transactions.
 */
import type Database from 'better-sqlite3';
import { StoreError, invalid } from '../errors.js';
import { type MergeRegistry, replaceMerge } from '../merges.js';
import { checkAggs, checkPage, checkQuery, checkSort } from '../query/check.js';
import { type Sql, SqlCompiler, and, ftsTableName, hotValue, jsonPath, quoteIdent, sql, tableName } from '../query/sql.js';
import { type ResolvedSpec, resolveSpec } from '../spec.js';
import type {
  BulkGroupOutcome,
  BulkOutcome,
  BulkResult,
  BulkUpsertCall,
  BulkUpsertOptions,
  Doc,
  FieldType,
  IndexSpec,
  Indexes,
  Scope,
  SearchRequest,
  SearchResult,
} from '../types.js';
import type { Query } from '../query/ast.js';
import { checkId, checkScope, getPath, isPlainObject } from '../validate.js';
import { SqliteAggregator } from './aggregations.js';
import { withBudget } from './functions.js';

const COLUMN_TYPES: Readonly<Record<FieldType, string>> = {
  keyword: 'TEXT',
  text: 'TEXT',
  number: 'REAL',
  date: 'INTEGER',
  boolean: 'INTEGER',
  flattened: 'TEXT',
};
/** unicode61 without diacritic folding and with '_' inside words, close to Elasticsearch's standard analyzer. */
/** Rows read at a time when a new hot column is filled from the documents. */
const BACKFILL_BATCH = 1000;
const FTS_TOKENIZER = `unicode61 remove_diacritics 0 tokenchars '_'`;

interface Prepared {
  resolved: ResolvedSpec;
  table: string;
  hotFields: Array<[string, FieldType]>;
  get: Database.Statement<[string, string], string>;
  write: Database.Statement<unknown[]>;
  /** `UPDATE … SET doc, <changed hot columns>` by bitmask of the changed columns (see `#rewrite`). */
  updates: Map<number, Database.Statement<unknown[]>>;
  /** The value of each hot field in a document, in `hotFields` order (paths split once, not per write). */
  hotGetters: Array<(doc: Doc) => unknown>;
}

/** A reader for one field path: a plain property read when the path has no dot. */
function pathGetter(path: string): (doc: Doc) => unknown {
  if (!path.includes('.')) return (doc) => doc[path];
  const segments = path.split('.');
  return (doc) => {
    let value: unknown = doc;
    for (const segment of segments) {
      if (!isPlainObject(value)) return undefined;
      value = value[segment];
    }
    return value;
  };
}

/** Above this many hot columns a rewrite sets them all (the bitmask of changed columns is a 31-bit integer). */
const MAX_MASKED_HOT = 30;

/** A hot column's value for a stored document; undefined when it cannot be one (the column then holds NULL). */
function storedHotValue(field: string, type: FieldType, value: unknown): string | number | null | undefined {
  try {
    return hotValue(field, type, value);
  } catch {
    return undefined;
  }
}

/** What of a spec shapes the tables; a change re-derives columns and the FTS table. */
const layoutOf = (resolved: ResolvedSpec): string =>
  JSON.stringify({ fields: Object.fromEntries(resolved.fields), hot: [...resolved.hot.keys()], text: [...resolved.text.keys()] });

export class SqliteIndexes implements Indexes {
  readonly #db: Database.Database;
  readonly #merges: MergeRegistry;
  readonly #prepared = new Map<string, Prepared>();

  readonly #onBulkWrite: ((docs: number) => void) | undefined;
  readonly #searchBudgetMs: number;
  readonly #mapError: (error: unknown) => unknown;

  /**
   * `onBulkWrite` hears how many documents each committed bulk upsert wrote (the engine's checkpointer uses it);
   * `mapError` turns the engine's errors into StoreErrors where a group answers them as values.
   */
  constructor(
    db: Database.Database,
    merges: MergeRegistry,
    options: { onBulkWrite?: (docs: number) => void; mapError?: (error: unknown) => unknown; searchBudgetMs?: number } = {},
  ) {
    this.#db = db;
    this.#searchBudgetMs = options.searchBudgetMs ?? Number.POSITIVE_INFINITY;
    this.#merges = merges;
    this.#onBulkWrite = options.onBulkWrite;
    this.#mapError = options.mapError ?? ((error) => error);
  }

  async ensure(spec: IndexSpec): Promise<void> {
    const resolved = resolveSpec(spec);
    const layout = layoutOf(resolved);
    const known = this.#prepared.get(resolved.name);
    if (known !== undefined && layoutOf(known.resolved) === layout) {
      this.#prepared.set(resolved.name, { ...known, resolved });
      return;
    }
    this.#db.transaction(() => this.#migrateIndex(resolved, layout)).immediate();
    this.#prepare(resolved);
  }

  #migrateIndex(resolved: ResolvedSpec, layout: string): void {
    const db = this.#db;
    const table = tableName(resolved);
    const stored = db.prepare('SELECT spec FROM index_specs WHERE name = ?').pluck().get(resolved.name) as string | undefined;
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (scope TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (scope, id))`);
    if (stored === layout) return;

    // Hot columns: drop the ones no longer hot, add and backfill new ones.
    const columns = new Set(
      (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(`idx_${resolved.name}`) as string[]).filter((c) =>
        c.startsWith('h_'),
      ),
    );
    const wanted = new Map([...resolved.hot].map(([field, column]) => [column, field]));
    for (const column of columns) {
      if (wanted.has(column)) continue;
      db.exec(`DROP INDEX IF EXISTS ${quoteIdent(`idx_${resolved.name}__${column}`)}`);
      db.exec(`ALTER TABLE ${table} DROP COLUMN ${quoteIdent(column)}`);
    }
    const added: Array<[string, string, FieldType]> = [];
    for (const [column, field] of wanted) {
      const type = resolved.fields.get(field) ?? 'keyword';
      if (!columns.has(column)) {
        db.exec(`ALTER TABLE ${table} ADD COLUMN ${quoteIdent(column)} ${COLUMN_TYPES[type]}`);
        added.push([column, field, type]);
      }
      db.exec(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`idx_${resolved.name}__${column}`)} ON ${table} (scope, ${quoteIdent(column)})`);
    }
    if (added.length > 0) {
      const update = db.prepare(`UPDATE ${table} SET ${added.map(([c]) => `${quoteIdent(c)} = ?`).join(', ')} WHERE rowid = ?`);
      // In batches: a statement cannot write while another one iterates.
      const batch = db.prepare(`SELECT rowid, doc FROM ${table} WHERE rowid > ? ORDER BY rowid LIMIT ${BACKFILL_BATCH}`).raw();
      for (
        let after = -Infinity, rows = batch.all(after) as Array<[number, string]>;
        rows.length > 0;
        rows = batch.all(after) as Array<[number, string]>
      ) {
        for (const [rowid, json] of rows) {
          const doc = JSON.parse(json) as Record<string, unknown>;
          const values = added.map(([, field, type]) => {
            try {
              return hotValue(field, type, getPath(doc, field));
            } catch {
              return null; // an array cannot be hot: the column stays NULL until the document is rewritten
            }
          });
          update.run(...values, rowid);
          after = rowid;
        }
      }
    }

    // Full text: rebuild the FTS table and its triggers from the documents.
    const fts = ftsTableName(resolved);
    for (const suffix of ['ai', 'ad', 'au']) db.exec(`DROP TRIGGER IF EXISTS ${quoteIdent(`idx_${resolved.name}__fts_${suffix}`)}`);
    db.exec(`DROP TABLE IF EXISTS ${fts}`);
    if (resolved.text.size > 0) {
      const ftsColumns = [...resolved.text.values()].map(quoteIdent);
      // Paths are validated identifiers (FIELD_PATTERN), safe as SQL string literals in trigger bodies.
      const values = (row: string) => [...resolved.text.keys()].map((field) => `json_extract(${row}.doc, '${jsonPath(field)}')`).join(', ');
      db.exec(
        `CREATE VIRTUAL TABLE ${fts} USING fts5(${ftsColumns.join(', ')}, content='', contentless_delete=1, tokenize="${FTS_TOKENIZER}")`,
      );
      db.exec(`INSERT INTO ${fts} (rowid, ${ftsColumns.join(', ')}) SELECT t.rowid, ${values('t')} FROM ${table} AS t`);
      db.exec(`CREATE TRIGGER ${quoteIdent(`idx_${resolved.name}__fts_ai`)} AFTER INSERT ON ${table} BEGIN
        INSERT INTO ${fts} (rowid, ${ftsColumns.join(', ')}) VALUES (new.rowid, ${values('new')}); END`);
      db.exec(`CREATE TRIGGER ${quoteIdent(`idx_${resolved.name}__fts_ad`)} AFTER DELETE ON ${table} BEGIN
        DELETE FROM ${fts} WHERE rowid = old.rowid; END`);
      db.exec(`CREATE TRIGGER ${quoteIdent(`idx_${resolved.name}__fts_au`)} AFTER UPDATE OF doc ON ${table} BEGIN
        DELETE FROM ${fts} WHERE rowid = old.rowid;
        INSERT INTO ${fts} (rowid, ${ftsColumns.join(', ')}) VALUES (new.rowid, ${values('new')}); END`);
    }
    db.prepare(
      'INSERT INTO index_specs (name, spec, updated) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated = excluded.updated',
    ).run(resolved.name, layout, Date.now());
  }

  #prepare(resolved: ResolvedSpec): void {
    const table = tableName(resolved);
    const hotFields = [...resolved.hot.keys()].map((field): [string, FieldType] => [field, resolved.fields.get(field) ?? 'keyword']);
    const hotColumns = [...resolved.hot.values()].map(quoteIdent);
    const columns = ['scope', 'id', 'doc', ...hotColumns];
    const write = this.#db.prepare<unknown[]>(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
       ON CONFLICT (scope, id) DO UPDATE SET ${['doc', ...hotColumns].map((c) => `${c} = excluded.${c}`).join(', ')}`,
    );
    const get = this.#db.prepare<[string, string], string>(`SELECT doc FROM ${table} WHERE scope = ? AND id = ?`).pluck();
    const hotGetters = hotFields.map(([field]) => pathGetter(field));
    this.#prepared.set(resolved.name, { resolved, table, hotFields, get, write, updates: new Map(), hotGetters });
  }

  #index(index: string): Prepared {
    const prepared = this.#prepared.get(index);
    if (prepared === undefined)
      throw new StoreError('notfound', `index "${index}" is not declared: call store.indexes.ensure(spec) for it at startup`);
    return prepared;
  }

  async get(index: string, scope: Scope, id: string): Promise<Doc | undefined> {
    const p = this.#index(index);
    const doc = p.get.get(checkScope(scope), checkId(id));
    return doc === undefined ? undefined : (JSON.parse(doc) as Doc);
  }

  /**
   * Merges one document into the stored one and writes it; runs inside the caller's transaction. `previous` is read
   * for the built-in replace only when `track` asks for it (replace ignores the stored document).
   */
  #mergeOne(
    p: Prepared,
    scope: string,
    incoming: Doc,
    track = false,
  ): { doc: Doc | undefined; previous: Doc | undefined; written: boolean } {
    if (!isPlainObject(incoming)) throw invalid('a document must be an object');
    const id = checkId(incoming.id);
    const merge = this.#merges.get(p.resolved.merge ?? 'replace');
    const stored = merge === replaceMerge && !track ? undefined : this.#storedDoc(p, scope, id);
    const merged = this.#merges.run(merge, stored, incoming);
    if (merged === undefined) return { doc: stored, previous: stored, written: false };
    const hot = p.hotFields.map(([field, type], i) => hotValue(field, type, p.hotGetters[i]?.(merged)));
    if (stored === undefined || p.hotFields.length > MAX_MASKED_HOT) p.write.run(scope, id, JSON.stringify(merged), ...hot);
    else this.#rewrite(p, scope, id, merged, hot, stored);
    return { doc: merged, previous: stored, written: true };
  }

  /**
   * Rewrites a stored row, setting only the hot columns whose value changed: SQLite maintains the index of every
   * column a SET names, changed or not, and merges mostly change two or three of them.
   */
  #rewrite(p: Prepared, scope: string, id: string, merged: Doc, hot: Array<string | number | null>, stored: Doc): void {
    let mask = 0;
    const changed: Array<string | number | null> = [];
    p.hotFields.forEach(([field, type], i) => {
      const value = hot[i] ?? null;
      if (storedHotValue(field, type, p.hotGetters[i]?.(stored)) === value) return;
      mask |= 1 << i;
      changed.push(value);
    });
    let update = p.updates.get(mask);
    if (update === undefined) {
      const columns = [...p.resolved.hot.values()].filter((_, i) => (mask & (1 << i)) !== 0).map(quoteIdent);
      update = this.#db.prepare<unknown[]>(
        `UPDATE ${p.table} SET ${['doc', ...columns].map((c) => `${c} = ?`).join(', ')} WHERE scope = ? AND id = ?`,
      );
      p.updates.set(mask, update);
    }
    update.run(JSON.stringify(merged), ...changed, scope, id);
  }

  #storedDoc(p: Prepared, scope: string, id: string): Doc | undefined {
    const raw = p.get.get(scope, id);
    return raw === undefined ? undefined : (JSON.parse(raw) as Doc);
  }

  /** Returns the document as stored after the merge; undefined when nothing is stored (the merge declined a first write). */
  async upsert(index: string, scope: Scope, doc: Doc): Promise<Doc | undefined> {
    const p = this.#index(index);
    checkScope(scope);
    return this.#db.transaction(() => this.#mergeOne(p, scope, doc).doc).immediate();
  }

  /**
   * One `BEGIN IMMEDIATE` transaction: every document is merged and written, then the `also` writes derived from the
   * outcomes — or (on any error, the callback's included) none is.
   */
  async bulkUpsert(index: string, scope: Scope, docs: Doc[], options: BulkUpsertOptions = {}): Promise<BulkResult> {
    const answer = this.#db.transaction(() => this.#bulkUpsertNow({ index, scope, docs, options })).immediate();
    this.#onBulkWrite?.(answer.written);
    return answer;
  }

  /**
   * Several bulk upserts in ONE write transaction, each atomic on its own (a savepoint): a call that fails is rolled
   * back and answered as its error, the others commit together. One commit writes each page the calls share once
   * instead of once per call — for a writer with several batches waiting. When the transaction as a whole cannot
   * commit, every call fails (throws) and nothing is written.
   */
  async bulkUpsertGroup(calls: readonly BulkUpsertCall[]): Promise<BulkGroupOutcome[]> {
    const settled = this.#db
      .transaction(() =>
        calls.map((call): BulkGroupOutcome => {
          try {
            return { result: this.#db.transaction(() => this.#bulkUpsertNow(call))() };
          } catch (error) {
            // Some failures (I/O, disk full) end the whole transaction: then nothing of the group may commit.
            if (!this.#db.inTransaction) throw error;
            return { error: this.#mapError(error) };
          }
        }),
      )
      .immediate();
    this.#onBulkWrite?.(settled.reduce((sum, s) => sum + ('result' in s ? s.result.written : 0), 0));
    return settled;
  }

  /** One bulk upsert, inside the caller's transaction. */
  #bulkUpsertNow({ index, scope, docs, options = {} }: BulkUpsertCall): BulkResult {
    const p = this.#index(index);
    checkScope(scope);
    if (!Array.isArray(docs)) throw invalid('docs must be an array');
    const { also } = options;
    const track = options.outcomes === true || also !== undefined;
    let written = 0;
    const outcomes: BulkOutcome[] = [];
    for (const doc of docs) {
      const result = this.#mergeOne(p, scope, doc, track);
      if (result.written) written++;
      if (track) outcomes.push({ id: doc.id, previous: result.previous, current: result.doc, changed: result.written });
    }
    if (also !== undefined) {
      for (const write of also(outcomes)) {
        const target = this.#index(write.index);
        const targetScope = checkScope(write.scope);
        if (!Array.isArray(write.docs)) throw invalid(`also: docs for index "${write.index}" must be an array`);
        for (const doc of write.docs) this.#mergeOne(target, targetScope, doc);
      }
    }
    const result: BulkResult = { written, unchanged: docs.length - written };
    if (options.outcomes === true) result.outcomes = outcomes;
    return result;
  }

  #where(p: Prepared, scope: Scope, query: Query | undefined, compiler: SqlCompiler): Sql {
    checkScope(scope);
    const q = query === undefined ? undefined : checkQuery(query, p.resolved);
    return and(sql('t.scope = ?', scope), compiler.where(q));
  }

  async search(index: string, scope: Scope, request: SearchRequest = {}): Promise<SearchResult> {
    const p = this.#index(index);
    const compiler = new SqlCompiler(p.resolved);
    // shallot_budget() is evaluated per row visited: a scan past the budget stops (see withBudget).
    const where = and(this.#where(p, scope, request.query, compiler), sql('shallot_budget()'));
    const sort = request.sort === undefined ? undefined : checkSort(request.sort, p.resolved);
    const aggs = request.aggs === undefined ? undefined : checkAggs(request.aggs, p.resolved);
    const { offset, limit } = checkPage(request.offset, request.limit);
    const order = compiler.orderBy(sort);
    return withBudget(this.#searchBudgetMs, () => {
      const total = this.#db
        .prepare(`SELECT COUNT(*) FROM ${p.table} AS t WHERE ${where.sql}`)
        .pluck()
        .get(...where.params) as number;
      const hits =
        limit === 0 || total <= offset
          ? []
          : (this.#db
              .prepare(`SELECT t.doc FROM ${p.table} AS t WHERE ${where.sql} ORDER BY ${order.sql} LIMIT ? OFFSET ?`)
              .pluck()
              .all(...where.params, ...order.params, limit, offset) as string[]);
      const result: SearchResult = { total, hits: hits.map((h) => JSON.parse(h) as Doc) };
      if (aggs !== undefined) {
        result.aggregations = new SqliteAggregator(this.#db, compiler, p.table, sql('t.scope = ?', scope)).run(aggs, where);
      }
      return result;
    });
  }

  async count(index: string, scope: Scope, query?: Query): Promise<number> {
    const p = this.#index(index);
    const where = this.#where(p, scope, query, new SqlCompiler(p.resolved));
    return this.#db
      .prepare(`SELECT COUNT(*) FROM ${p.table} AS t WHERE ${where.sql}`)
      .pluck()
      .get(...where.params) as number;
  }

  async deleteByQuery(index: string, scope: Scope, query?: Query): Promise<number> {
    const p = this.#index(index);
    const where = this.#where(p, scope, query, new SqlCompiler(p.resolved));
    return this.#db
      .transaction(() => this.#db.prepare(`DELETE FROM ${p.table} AS t WHERE ${where.sql}`).run(...where.params).changes)
      .immediate();
  }

  async dropScope(index: string, scope: Scope): Promise<number> {
    const p = this.#index(index);
    checkScope(scope);
    return this.#db.transaction(() => this.#db.prepare(`DELETE FROM ${p.table} WHERE scope = ?`).run(scope).changes).immediate();
  }

  async stats(index: string, scope: Scope): Promise<{ count: number; bytes: number }> {
    const p = this.#index(index);
    checkScope(scope);
    const row = this.#db.prepare(`SELECT COUNT(*), TOTAL(octet_length(doc)) FROM ${p.table} WHERE scope = ?`).raw().get(scope) as [
      number,
      number,
    ];
    return { count: row[0], bytes: Math.round(row[1]) };
  }
}
