/** Merge definitions: the built-in `replace` and `shallow`, and the registry each store keeps. */
import { StoreError, invalid } from './errors.js';
import type { Doc, MergeDefinition } from './types.js';
import { checkName } from './validate.js';

/** The incoming document replaces the stored one. */
export const replaceMerge: MergeDefinition = {
  name: 'replace',
  js: (_stored, incoming) => incoming,
  painless: 'ctx._source.clear(); ctx._source.putAll(params.incoming);',
};

/** The incoming document's top-level fields are written over the stored ones. */
export const shallowMerge: MergeDefinition = {
  name: 'shallow',
  js: (stored, incoming) => ({ ...stored, ...incoming }),
  painless: 'ctx._source.putAll(params.incoming);',
};

export const BUILTIN_MERGES: readonly MergeDefinition[] = [replaceMerge, shallowMerge];

export class MergeRegistry {
  readonly #merges = new Map<string, MergeDefinition>();

  constructor() {
    for (const merge of BUILTIN_MERGES) this.register(merge);
  }

  register(merge: MergeDefinition): void {
    checkName('merge', merge.name);
    if (typeof merge.js !== 'function') throw invalid(`merge "${merge.name}": js must be a function`);
    if (typeof merge.painless !== 'string' || merge.painless.trim() === '')
      throw invalid(`merge "${merge.name}": painless must be a non-empty script`);
    this.#merges.set(merge.name, merge);
  }

  get(name: string): MergeDefinition {
    const merge = this.#merges.get(name);
    if (merge === undefined) {
      throw new StoreError(
        'invalid',
        `merge "${name}" is not registered: call store.registerMerge() before writing to an index that uses it`,
      );
    }
    return merge;
  }

  /** Runs a JS merge; its failure becomes an 'invalid' StoreError naming the merge and the document. */
  run(merge: MergeDefinition, stored: Doc | undefined, incoming: Doc): Doc | undefined {
    let merged: Doc | undefined;
    try {
      merged = merge.js(stored, incoming);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StoreError('invalid', `merge "${merge.name}" failed for document "${incoming.id}": ${reason}`, { cause: error });
    }
    if (merged === undefined) return undefined;
    if (merged === null || typeof merged !== 'object' || Array.isArray(merged)) {
      throw invalid(`merge "${merge.name}" returned a non-object for document "${incoming.id}"`);
    }
    return merged.id === incoming.id ? merged : { ...merged, id: incoming.id };
  }
}
