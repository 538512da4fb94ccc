/**
 * Definition-CRUD descriptors: one call builds the `get_<plural>`, `get_<singular>`, `create_<singular>`,
 * `update_<singular>`, `delete_<singular>` (and optionally `multi_update_<singular>`) descriptors of a section
 * (spec/behaviour.md §13). Handlers come from management's `crudRoutes`.
 */
import { type Static, type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import type { ApiDescriptor, Privilege, ServiceName } from './descriptor.js';
import { Ok, OkEmpty } from './responses.js';

/** Client-supplied definition ids (api-sections §0). */
export const DEFINITION_ID_PATTERN = '^[a-z0-9_]+$';
export const DefinitionId = Type.String({ pattern: DEFINITION_ID_PATTERN, minLength: 1, maxLength: 100 });

/** Server-set fields of every definition (data-structures §0); clients may send them but they are ignored. */
export const BOOKKEEPING_KEYS = ['username', 'created', 'modified', 'revision'] as const;

const Bookkeeping = {
  id: DefinitionId,
  username: Type.Optional(Type.String({ description: 'Creator: username or API key id' })),
  created: Type.Optional(Type.Integer({ description: 'Unix epoch seconds' })),
  modified: Type.Optional(Type.Integer({ description: 'Unix epoch seconds' })),
  revision: Type.Optional(Type.Integer({ description: 'Starts at 1, +1 on every single update' })),
};

/** Accepted (and ignored) on create/update so clients can send back a record they read. */
const IgnoredBookkeeping = {
  username: Type.Optional(Type.Unknown()),
  created: Type.Optional(Type.Unknown()),
  modified: Type.Optional(Type.Unknown()),
  revision: Type.Optional(Type.Unknown()),
};

export interface CrudPrivileges {
  /** Reads (`get_<plural>`, `get_<singular>`). @default 'any' */
  read?: Privilege;
  create: Privilege;
  edit: Privilege;
  delete: Privilege;
}

export interface CrudSectionOptions<R extends TObject = TObject> {
  /** Singular API name: `get_<singular>`, `create_<singular>`… and the response key (`category`). */
  singular: string;
  /** Plural API name: `get_<plural>` (`categories`). */
  plural: string;
  /** The record type as activity actions and duplicate-id errors name it (`category`, `apikey`). @default singular */
  type?: string;
  /** Store collection. @default plural */
  collection?: string;
  /** Prefix of generated ids (data-structures §0). */
  idPrefix: string;
  /**
   * The definition's own fields as `create_<singular>` accepts them: required fields required, the rest optional.
   * Bookkeeping fields (`id`, `username`, `created`, `modified`, `revision`) are added by the factory.
   */
  record: R;
  privileges: CrudPrivileges;
  /** Adds `multi_update_<singular>` (sort_order only); also makes the section ordered (`sort_order` appended on create). */
  multiUpdate?: boolean;
  /** Records carry `sort_order`, appended on create. @default multiUpdate */
  ordered?: boolean;
  /** `update_<singular>` answers the full updated record instead of `{code:0}` (plugins, events). @default false */
  updateReturnsRecord?: boolean;
  /** Human title of the section for summaries. @default plural with spaces */
  title?: string;
  /** @default 'management' */
  service?: ServiceName;
}

/** A row as the API answers it: the section's fields (all optional: older records may lack some) plus bookkeeping. */
export function crudRow<R extends TObject>(record: R) {
  return Type.Object({ ...Type.Partial(record).properties, ...Bookkeeping }, { additionalProperties: true });
}

function withoutId<T extends TProperties>(properties: T): T {
  const { id: _id, ...rest } = properties as TProperties;
  return rest as T;
}

export interface CrudApi<R extends TObject = TObject> {
  options: Required<Omit<CrudSectionOptions<R>, 'multiUpdate' | 'title'>> & { multiUpdate: boolean; title: string };
  /** The response row schema. */
  row: ReturnType<typeof crudRow<R>>;
  list: ApiDescriptor;
  get: ApiDescriptor;
  create: ApiDescriptor;
  update: ApiDescriptor;
  delete: ApiDescriptor;
  multiUpdate?: ApiDescriptor;
  /** Every descriptor of the section, for the `API` list. */
  all: ApiDescriptor[];
}

/** Builds the descriptors of one definition section. */
export function crudApi<R extends TObject>(options: CrudSectionOptions<R>): CrudApi<R> {
  const { singular, plural } = options;
  const resolved = {
    ...options,
    type: options.type ?? singular,
    collection: options.collection ?? plural,
    multiUpdate: options.multiUpdate ?? false,
    ordered: options.ordered ?? options.multiUpdate ?? false,
    updateReturnsRecord: options.updateReturnsRecord ?? false,
    title: options.title ?? plural.replaceAll('_', ' '),
    service: options.service ?? 'management',
    privileges: { read: 'any', ...options.privileges },
  } satisfies CrudApi<R>['options'];
  const { privileges, service, title } = resolved;
  const row = crudRow(options.record);
  const extra = { additionalProperties: options.record.additionalProperties ?? true };
  const own = withoutId(options.record.properties);

  const list = defineCrud({
    name: `get_${plural}`,
    methods: ['GET', 'POST'],
    service,
    privilege: privileges.read,
    summary: `List ${title} (list.length is the total before paging)`,
    params: Type.Object({
      offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    }),
    response: Ok({ rows: Type.Array(row), list: Type.Object({ length: Type.Integer({ minimum: 0 }) }) }),
  });

  const get = defineCrud({
    name: `get_${singular}`,
    methods: ['GET', 'POST'],
    service,
    privilege: privileges.read,
    summary: `Fetch one ${singular.replaceAll('_', ' ')} by id`,
    params: Type.Object({ id: DefinitionId }),
    response: Ok({ [singular]: row }),
  });

  const create = defineCrud({
    name: `create_${singular}`,
    methods: ['POST'],
    service,
    privilege: privileges.create,
    summary: `Create a ${singular.replaceAll('_', ' ')}; the id is generated (prefix "${options.idPrefix}") unless given`,
    params: Type.Object({ ...own, id: Type.Optional(DefinitionId), ...IgnoredBookkeeping }, extra),
    response: Ok({ [singular]: row }),
  });

  const update = defineCrud({
    name: `update_${singular}`,
    methods: ['POST'],
    service,
    privilege: privileges.edit,
    summary: `Update a ${singular.replaceAll('_', ' ')}: the given fields are shallow-merged; modified and revision are bumped`,
    params: Type.Object({ ...Type.Partial(Type.Object(own)).properties, id: DefinitionId, ...IgnoredBookkeeping }, extra),
    response: resolved.updateReturnsRecord ? Ok({ [singular]: row }) : OkEmpty,
  });

  const remove = defineCrud({
    name: `delete_${singular}`,
    methods: ['POST'],
    service,
    privilege: privileges.delete,
    summary: `Delete a ${singular.replaceAll('_', ' ')} permanently`,
    params: Type.Object({ id: DefinitionId }),
    response: OkEmpty,
  });

  const multiUpdate = resolved.multiUpdate
    ? defineCrud({
        name: `multi_update_${singular}`,
        methods: ['POST'],
        service,
        privilege: privileges.edit,
        summary: `Set sort_order on many ${title} at once (modified and revision are not touched)`,
        params: Type.Object({
          items: Type.Array(Type.Object({ id: DefinitionId, sort_order: Type.Integer({ minimum: 0 }) }), { minItems: 1, maxItems: 10000 }),
        }),
        response: OkEmpty,
      })
    : undefined;

  const all = [list, get, create, update, remove, ...(multiUpdate ? [multiUpdate] : [])];
  return { options: resolved, row, list, get, create, update, delete: remove, ...(multiUpdate ? { multiUpdate } : {}), all };
}

function defineCrud(descriptor: Omit<ApiDescriptor, 'namespace'>): ApiDescriptor {
  return { namespace: 'app', ...descriptor };
}

/** The stored shape of a section's record. */
export type CrudRecord<R extends TSchema> = Static<R> & {
  id: string;
  username?: string;
  created?: number;
  modified?: number;
  revision?: number;
};
