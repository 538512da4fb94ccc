/** Registers a service's handlers for the descriptors it owns; a missing handler fails startup by name. */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { API, type ApiDescriptor, ErrorResponse, type ParamsOf, type ResponseOf, type ServiceName, routePaths } from '@shallot/schemas';
import { authorize } from './auth.js';
import { Errors } from './errors.js';
import { type Caller, mustChangePassword } from './identity.js';
import { leekErrorHandler } from './leek-errors.js';
import { applyHygiene, checkStructure, compileParams, mergeParams } from './params.js';
import { cachedSerializerCompiler } from './serializers.js';

export interface ApiCall<D extends ApiDescriptor> {
  params: ParamsOf<D>;
  caller: Caller | null;
  request: FastifyRequest;
  reply: FastifyReply;
}

export type ApiHandler<D extends ApiDescriptor> = (call: ApiCall<D>) => Promise<ResponseOf<D>>;

export interface Implementation {
  descriptor: ApiDescriptor;
  handler: ApiHandler<ApiDescriptor>;
}

/** Pairs a descriptor with its handler, keeping the handler's parameter and response types. */
export function implement<D extends ApiDescriptor>(descriptor: D, handler: ApiHandler<D>): Implementation {
  return { descriptor, handler: handler as unknown as ApiHandler<ApiDescriptor> };
}

/** Route schema plus the OpenAPI fields @fastify/swagger reads. */
export type DocumentedSchema = FastifySchema & { summary?: string; tags?: string[]; hide?: boolean };

const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

/** The task-monitor API's parameters: a JSON array body (event batches) as it is, else query and body merged. */
function leekParams(request: FastifyRequest): Record<string, unknown> {
  const query = request.query && typeof request.query === 'object' ? (request.query as Record<string, unknown>) : {};
  if (Array.isArray(request.body)) return request.body as unknown as Record<string, unknown>;
  const body = request.body && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : undefined;
  return body ? { ...query, ...body } : { ...query };
}

/** Validated parameters of REST calls, set by the preValidation step. */
const validatedParams = new WeakMap<FastifyRequest, Record<string, unknown>>();

/**
 * Who may call: the descriptor's privilege; `/api/user/admin_*` calls (privilege `admin`) answer a non-admin with
 * the spec's `user` "User is not an administrator" (api-sections §8b).
 */
function authorizeCall(descriptor: ApiDescriptor, caller: Caller | null): void {
  if (descriptor.namespace === 'user' && descriptor.privilege === 'admin' && caller && !caller.privileges.admin) {
    throw new Errors.user('User is not an administrator');
  }
  authorize(caller, descriptor.privilege);
}

/** What a user who must change their password may still call: the change itself and the session basics. */
const BEFORE_PASSWORD_CHANGE = new Set([
  'user:update',
  'user:login',
  'user:logout',
  'user:resume_session',
  'app:logout_all',
  'app:echo',
  'app:ping',
]);

function requirePasswordChosen(descriptor: ApiDescriptor, caller: Caller | null): void {
  if (caller?.kind !== 'session' || !mustChangePassword(caller.user)) return;
  if (BEFORE_PASSWORD_CHANGE.has(`${descriptor.namespace}:${descriptor.name}`)) return;
  throw new Errors.password('You must choose a new password first: call /api/user/update with username, old_password and new_password');
}

/** The descriptors of one service, from the suite's list (or a given one, for tests). */
export function descriptorsOf(service: ServiceName, api: readonly ApiDescriptor[] = API): ApiDescriptor[] {
  return api.filter((d) => d.service === service);
}

export interface RegisterApiOptions {
  service: ServiceName;
  implementations: readonly Implementation[];
  /** Defaults to the suite's descriptor list. */
  api?: readonly ApiDescriptor[];
}

export function registerApi(app: FastifyInstance, options: RegisterApiOptions): void {
  const byName = new Map(options.implementations.map((i) => [i.descriptor.name + i.descriptor.namespace, i]));
  for (const descriptor of descriptorsOf(options.service, options.api)) {
    const implementation = byName.get(descriptor.name + descriptor.namespace);
    if (!implementation) {
      throw new Error(`Service ${options.service} has no handler for API descriptor "${descriptor.name}" (${descriptor.namespace})`);
    }
    const leek = descriptor.namespace === 'leek';
    const validate = compileParams(leek ? undefined : descriptor.params);
    for (const url of routePaths(descriptor)) {
      for (const method of descriptor.methods) {
        const schema: DocumentedSchema = {
          summary: descriptor.summary,
          tags: [options.service],
          response: leek ? { '2xx': descriptor.response } : { 200: descriptor.response, '4xx': ErrorResponse, '5xx': ErrorResponse },
        };
        if (descriptor.params) {
          if (BODYLESS.has(method)) schema.querystring = descriptor.params;
          else schema.body = descriptor.params;
        }
        if (leek) {
          app.route({
            method,
            url,
            schema,
            serializerCompiler: cachedSerializerCompiler,
            errorHandler: leekErrorHandler,
            // Who first, before the body schema: an unauthenticated call answers 401, never a 400 about its body.
            preValidation: async (request) => {
              // Anonymous endpoints (agent ingest) must work even with a stale cookie around.
              request.caller =
                descriptor.privilege === 'none'
                  ? await app.sessions.resolve(request).catch(() => null)
                  : await app.sessions.resolve(request);
              authorize(request.caller, descriptor.privilege);
              requirePasswordChosen(descriptor, request.caller);
            },
            handler: (request, reply) =>
              implementation.handler({ params: leekParams(request) as never, caller: request.caller, request, reply }),
          });
          continue;
        }
        app.route({
          method,
          url,
          schema,
          // The schemas above are for the docs: REST parameters are validated once merged (see preValidation).
          validatorCompiler: () => () => true,
          serializerCompiler: cachedSerializerCompiler,
          preValidation: async (request) => {
            // Who first (an unauthenticated call learns nothing about parameters), then the parameters.
            // `none`: a stale cookie must not block an anonymous call; `optional` checks what is presented.
            request.caller =
              descriptor.privilege === 'none' ? await app.sessions.resolve(request).catch(() => null) : await app.sessions.resolve(request);
            authorizeCall(descriptor, request.caller);
            requirePasswordChosen(descriptor, request.caller);
            // Keys and depth, then the schema (its maxLengths bound every string), and only then the string rules.
            validatedParams.set(request, applyHygiene(validate(checkStructure(mergeParams(request, descriptor.params)))));
          },
          handler: (request, reply) =>
            implementation.handler({
              params: (validatedParams.get(request) ?? {}) as never,
              caller: request.caller,
              request,
              reply,
            }),
        });
      }
    }
  }
}
