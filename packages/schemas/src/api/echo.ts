/**
 * `echo` and `ping` (xyOps lib/api.js): anonymous connectivity checks. echo answers the request as the server saw it;
 * credentials are optional but, when presented, must be valid (and the echoed caller says who they are).
 */
import { Type } from '@sinclair/typebox';
import { defineApi } from '../descriptor.js';
import { Ok } from '../responses.js';

const Bag = Type.Record(Type.String(), Type.Unknown());

export const echo = defineApi({
  name: 'echo',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'optional',
  summary:
    'Answer the request as the server saw it: method, url, client ips, query, headers, cookies, parameters and uploaded files (credential values masked). No credentials needed; presented ones must be valid, and `caller` says who they are',
  params: Type.Object({}, { additionalProperties: true }),
  response: Ok({
    method: Type.String(),
    url: Type.String(),
    ips: Type.Array(Type.String()),
    query: Bag,
    headers: Bag,
    cookies: Type.Record(Type.String(), Type.String()),
    params: Bag,
    files: Bag,
    caller: Type.Optional(
      Type.Object({
        kind: Type.Union([Type.Literal('session'), Type.Literal('key')]),
        username: Type.String(),
        privileges: Type.Record(Type.String(), Type.Boolean()),
      }),
    ),
  }),
});

export const ping = defineApi({
  name: 'ping',
  namespace: 'app',
  methods: ['GET', 'POST'],
  service: 'management',
  privilege: 'none',
  summary: 'Answer `{code: 0}`: the API is up. No credentials needed',
  response: Ok({}),
});
