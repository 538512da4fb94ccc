/** The standard REST response shapes: `{code: 0, ...}` on success, `{code, description}` on error. */
import { type TProperties, type TSchema, Type } from '@sinclair/typebox';

export const ErrorResponse = Type.Object(
  {
    code: Type.String({ description: 'Error kind, e.g. api, session, access, notfound' }),
    description: Type.String(),
  },
  { $id: 'ErrorResponse', additionalProperties: true },
);

/** A success response: `code: 0` plus the given properties. */
export function Ok<T extends TProperties>(properties: T) {
  return Type.Object({ code: Type.Literal(0), ...properties }, { additionalProperties: true });
}

export const OkEmpty = Ok({});

/** A list response: `{code:0, rows:[…], list:{length:N}}`; `length` is the total before paging. */
export function ListResponse<T extends TSchema>(row: T) {
  return Ok({ rows: Type.Array(row), list: Type.Object({ length: Type.Integer({ minimum: 0 }) }) });
}

export const Paging = {
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
};
