/**
 * Response serializers compiled once per schema object. Every descriptor's response schema is shared by its /v1 and
 * unversioned routes, its methods and every app instance in the process (tests build dozens), and compiling it is
 * most of an instance's start-up time.
 */
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import fastJsonStringify, { type Schema } from 'fast-json-stringify';

const compiled = new WeakMap<object, (data: unknown) => string>();

export const cachedSerializerCompiler: FastifySerializerCompiler<unknown> = ({ schema }) => {
  const key = schema as object;
  let serialize = compiled.get(key);
  if (!serialize) {
    serialize = fastJsonStringify(schema as Schema) as (data: unknown) => string;
    compiled.set(key, serialize);
  }
  return serialize;
};
