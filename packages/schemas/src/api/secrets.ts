/** Secrets (api-sections §4): metadata readable by anyone authenticated; values admin-only via decrypt_secret. */
import { Type } from '@sinclair/typebox';
import { DefinitionId, crudApi } from '../crud.js';
import { defineApi } from '../descriptor.js';
import { Ok } from '../responses.js';
import { Secret } from '../records/secret.js';

export const secretsApi = crudApi({
  singular: 'secret',
  plural: 'secrets',
  idPrefix: 'z',
  record: Secret,
  privileges: { create: 'admin', edit: 'admin', delete: 'admin' },
});

export const decryptSecret = defineApi({
  name: 'decrypt_secret',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'admin',
  summary: 'Decrypt a secret: answers its variables with their values (logged as secret_access)',
  params: Type.Object({ id: DefinitionId }),
  response: Ok({ fields: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })) }),
});

export const SECRETS_API = [...secretsApi.all, decryptSecret];
