/** `echo`: answers the caller and the parameters it sent; proves auth and routing end to end. */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';
import { Ok } from '../responses.js';

export const echo = defineApi({
  name: 'echo',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'any',
  summary: 'Answer the authenticated caller and the parameters of the request',
  params: Type.Object({}, { additionalProperties: true }),
  response: Ok({
    caller: Type.Object({
      kind: Type.Union([Type.Literal('session'), Type.Literal('key')]),
      username: Type.String(),
      privileges: Type.Record(Type.String(), Type.Boolean()),
    }),
    params: Type.Record(Type.String(), Type.Unknown()),
  }),
});
