/** Collections on sqlite: one `collections` table keyed by (collection, id), documents as JSON. */
import type Database from 'better-sqlite3';
import { StoreError, invalid } from '../errors.js';
import { checkPage } from '../query/check.js';
import { type Sql, and, quoteIdent, sql } from '../query/sql.js';
import { DEFAULT_LIST_LIMIT, checkCreate, checkListOptions, nowSeconds, ownFields, toRecord } from '../records.js';
import type { CollectionRecord, Collections, Doc, ListOptions, Page } from '../types.js';
import { checkId, checkName, isFieldPath } from '../validate.js';

interface Row {
  id: string;
  doc: string;
  revision: number;
  created: number;
  modified: number;
}

const COLUMNS: ReadonlySet<string> = new Set(['id', 'revision', 'created', 'modified']);

const fromRow = (row: Row): CollectionRecord => toRecord(JSON.parse(row.doc) as Record<string, unknown>, row);

function fieldExpr(field: string): Sql {
  if (COLUMNS.has(field)) return sql(quoteIdent(field));
  return sql('json_extract(doc, ?)', `$.${field}`);
}

export class SqliteCollections implements Collections {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string, string], Row>;
  readonly #insert: Database.Statement<[string, string, string, number, number, number]>;
  readonly #write: Database.Statement<[string, number, number, string, string]>;
  readonly #delete: Database.Statement<[string, string]>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#get = db.prepare('SELECT id, doc, revision, created, modified FROM collections WHERE collection = ? AND id = ?');
    this.#insert = db.prepare(
      'INSERT INTO collections (collection, id, doc, revision, created, modified) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#write = db.prepare('UPDATE collections SET doc = ?, revision = ?, modified = ? WHERE collection = ? AND id = ?');
    this.#delete = db.prepare('DELETE FROM collections WHERE collection = ? AND id = ?');
  }

  async get(collection: string, id: string): Promise<CollectionRecord | undefined> {
    checkName('collection', collection);
    const row = this.#get.get(collection, checkId(id, 'record'));
    return row === undefined ? undefined : fromRow(row);
  }

  async list(collection: string, options: ListOptions = {}): Promise<Page<CollectionRecord>> {
    checkListOptions(collection, options);
    const { offset, limit } = checkPage(options.offset, options.limit, DEFAULT_LIST_LIMIT);
    const where = and(
      sql('collection = ?', collection),
      ...Object.entries(options.where ?? {}).map(([field, value]) => {
        const expr = fieldExpr(field);
        return { sql: `${expr.sql} = ?`, params: [...expr.params, typeof value === 'boolean' ? Number(value) : value] };
      }),
    );
    const order: Sql[] = [];
    for (const s of options.sort ?? []) {
      if (!isFieldPath(s.field)) throw invalid(`sort field ${JSON.stringify(s.field)} is invalid: use dot-separated identifiers`);
      const expr = fieldExpr(s.field);
      const nulls = (s.missing ?? '_last') === '_last' ? 'NULLS LAST' : 'NULLS FIRST';
      order.push({ sql: `${expr.sql} ${s.order === 'desc' ? 'DESC' : 'ASC'} ${nulls}`, params: expr.params });
    }
    order.push(sql('id ASC'));
    const total = this.#db
      .prepare(`SELECT COUNT(*) AS n FROM collections WHERE ${where.sql}`)
      .pluck()
      .get(...where.params) as number;
    const rows =
      limit === 0
        ? []
        : (this.#db
            .prepare(
              `SELECT id, doc, revision, created, modified FROM collections WHERE ${where.sql} ORDER BY ${order.map((o) => o.sql).join(', ')} LIMIT ? OFFSET ?`,
            )
            .all(...where.params, ...order.flatMap((o) => o.params), limit, offset) as Row[]);
    return { rows: rows.map(fromRow), total };
  }

  async create(collection: string, record: Doc): Promise<CollectionRecord> {
    const { id, fields } = checkCreate(collection, record);
    const now = nowSeconds();
    const result = this.#insert.run(collection, id, JSON.stringify(fields), 1, now, now);
    if (result.changes === 0)
      throw new StoreError('conflict', `${collection} "${id}" already exists: update it, or create it under another id`);
    return toRecord(fields, { id, revision: 1, created: now, modified: now });
  }

  async update(
    collection: string,
    id: string,
    patch: Record<string, unknown>,
    options: { expectRevision?: number } = {},
  ): Promise<CollectionRecord> {
    checkName('collection', collection);
    checkId(id, 'record');
    const changes = ownFields(patch, 'patch');
    return this.#db
      .transaction(() => {
        const row = this.#get.get(collection, id);
        if (row === undefined) throw new StoreError('notfound', `${collection} "${id}" does not exist`);
        if (options.expectRevision !== undefined && options.expectRevision !== row.revision) {
          throw new StoreError(
            'conflict',
            `${collection} "${id}" is at revision ${row.revision}, not ${options.expectRevision}: someone else changed it; reload and retry`,
          );
        }
        const fields = { ...(JSON.parse(row.doc) as Record<string, unknown>), ...changes };
        const revision = row.revision + 1;
        const modified = nowSeconds();
        this.#write.run(JSON.stringify(fields), revision, modified, collection, id);
        return toRecord(fields, { id, revision, created: row.created, modified });
      })
      .immediate();
  }

  async patchMany(collection: string, patches: Array<{ id: string; fields: Record<string, unknown> }>): Promise<number> {
    checkName('collection', collection);
    if (!Array.isArray(patches)) throw invalid('patches must be an array');
    const checked = patches.map((p) => ({ id: checkId(p?.id, 'record'), fields: ownFields(p.fields, 'fields') }));
    return this.#db
      .transaction(() => {
        let patched = 0;
        for (const { id, fields } of checked) {
          const row = this.#get.get(collection, id);
          if (row === undefined) continue;
          const doc = JSON.stringify({ ...(JSON.parse(row.doc) as Record<string, unknown>), ...fields });
          this.#write.run(doc, row.revision, row.modified, collection, id);
          patched++;
        }
        return patched;
      })
      .immediate();
  }

  async delete(collection: string, id: string): Promise<boolean> {
    checkName('collection', collection);
    return this.#delete.run(collection, checkId(id, 'record')).changes > 0;
  }
}
