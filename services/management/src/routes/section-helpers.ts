/** Small helpers the definition sections share on top of the CRUD framework. */
import { type ApiHandler, Errors, type Implementation, RecordError } from '@shallot/core';
import type { ApiDescriptor } from '@shallot/schemas';
import { type CollectionRecord, type Store, StoreError } from '@shallot/store';

/**
 * Replaces the handler of one descriptor in a list of implementations, giving the wrapper the original handler
 * (e.g. to keep side records in step with the definition). `descriptor` may be swapped for one with the same name.
 */
export function wrapHandler(
  implementations: Implementation[],
  descriptor: ApiDescriptor,
  wrap: (original: ApiHandler<ApiDescriptor>) => ApiHandler<ApiDescriptor>,
  replacement: ApiDescriptor = descriptor,
): Implementation[] {
  return implementations.map((impl) =>
    impl.descriptor.name === descriptor.name && impl.descriptor.namespace === descriptor.namespace
      ? { descriptor: replacement, handler: wrap(impl.handler) }
      : impl,
  );
}

/** Serves `alias` with the handler of `descriptor` (another spelling of the same call). */
export function aliasHandler(implementations: Implementation[], descriptor: ApiDescriptor, alias: ApiDescriptor): Implementation[] {
  const original = implementations.find((i) => i.descriptor.name === descriptor.name && i.descriptor.namespace === descriptor.namespace);
  if (!original) throw new Error(`No handler for ${descriptor.name} to alias as ${alias.name}`);
  return [...implementations, { descriptor: alias, handler: original.handler }];
}

/** Turns a validation problem into the answer a section wants (`api`, or a record type such as `web_hook`). */
export function refuse(code: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  throw code === 'api' ? new Errors.api(message) : new RecordError(code, message);
}

/** `code: 'alert'` refusal for group-limited callers (behaviour §4: alerts and monitors). */
export function refuseGroupLimited(caller: { privileges: Record<string, boolean>; groups: readonly string[] }, what: string): void {
  if (!caller.privileges.admin && caller.groups.length > 0) {
    throw new RecordError('alert', `Group-limited users may not manage ${what}.`, 403);
  }
}

const CONFLICT_RETRIES = 5;

/**
 * Read-modify-write of a side record (bucket data, encrypted secret values) with optimistic concurrency: `change`
 * gets the current record (or undefined) and returns the fields to store. Retries when another writer got there first.
 */
export async function mutateSide(
  store: Store,
  collection: string,
  id: string,
  change: (current: CollectionRecord | undefined) => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<CollectionRecord> {
  for (let attempt = 0; ; attempt++) {
    const current = await store.collections.get(collection, id);
    const fields = await change(current);
    try {
      if (current) return await store.collections.update(collection, id, fields, { expectRevision: current.revision });
      return await store.collections.create(collection, { ...fields, id });
    } catch (error) {
      const retry = error instanceof StoreError && (error.kind === 'conflict' || error.kind === 'notfound');
      if (!retry || attempt >= CONFLICT_RETRIES) throw error;
    }
  }
}
