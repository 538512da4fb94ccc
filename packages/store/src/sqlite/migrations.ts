/** The sqlite file's schema, as an ordered list of migrations tracked in `PRAGMA user_version`. */
import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';

export interface Migration {
  version: number;
  description: string;
  up(db: Database.Database): void;
}

/** Append only: a released migration is never edited, a fix is a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'collections and the index spec registry',
    up(db) {
      db.exec(`
        CREATE TABLE IF NOT EXISTS collections (
          collection TEXT NOT NULL,
          id TEXT NOT NULL,
          doc TEXT NOT NULL,
          revision INTEGER NOT NULL,
          created INTEGER NOT NULL,
          modified INTEGER NOT NULL,
          PRIMARY KEY (collection, id)
        );
        CREATE TABLE IF NOT EXISTS index_specs (
          name TEXT PRIMARY KEY,
          spec TEXT NOT NULL,
          updated INTEGER NOT NULL
        );
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/**
 * Brings the file to SCHEMA_VERSION. The version is read inside a `BEGIN IMMEDIATE` transaction,
 * so a second process opening the file at the same time waits, then finds nothing left to do.
 */
export function migrate(db: Database.Database): number {
  return db
    .transaction(() => {
      const current = Number(db.pragma('user_version', { simple: true }));
      if (current > SCHEMA_VERSION) {
        throw new StoreError(
          'unsupported',
          `the sqlite file has schema version ${current}, newer than this build's ${SCHEMA_VERSION}: upgrade Shallot or use a new data file`,
        );
      }
      for (const migration of MIGRATIONS) if (migration.version > current) migration.up(db);
      if (current < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return SCHEMA_VERSION;
    })
    .immediate();
}
