/**
 * Storage buckets (seed 001 §Buckets): the definition in `buckets`, its JSON data and file list in `bucket_contents`,
 * the files themselves in blob storage at `files/bucket/<bucketId>/<rand>/<name>` (behaviour §12). Not scoped.
 */
import {
  type ApiHandler,
  type BlobStore,
  BlobTooLargeError,
  BlobTooSmallError,
  type Caller,
  Errors,
  type Implementation,
  RecordError,
  type ServiceContext,
  blobStoreFor,
  generateId,
  missingRecord,
  implement,
  randomFolder,
  urlName,
} from '@shallot/core';
import {
  type ApiDescriptor,
  type StoredFile,
  bucketsApi,
  deleteBucketFile,
  emptyBucket,
  getBucket,
  uploadBucketFiles,
  writeBucketData,
} from '@shallot/schemas';
import type { CollectionRecord } from '@shallot/store';
import type { FastifyRequest } from 'fastify';
import { recordActivity } from '../activity.js';
import { crudRoutes } from '../crud/index.js';
import { mutateSide, wrapHandler } from './section-helpers.js';

const BUCKETS = bucketsApi.options.collection;
/** Data and file list of each bucket, same id as the bucket. */
export const BUCKET_CONTENTS = 'bucket_contents';

/** client.bucket_upload_settings (data-structures §14). */
export const MAX_FILES_PER_BUCKET = 100;
export const MAX_BUCKET_FILE_SIZE = 1024 * 1024 * 1024;
const BUCKET_ID = /^[a-z0-9_]+$/;

type Fields = Record<string, unknown>;
const now = () => Math.floor(Date.now() / 1000);
const folderOf = (id: string) => `files/bucket/${id}`;

function filesOf(contents: CollectionRecord | undefined): StoredFile[] {
  return Array.isArray(contents?.files) ? (contents.files as StoredFile[]) : [];
}

function dataOf(contents: CollectionRecord | undefined): Fields {
  const data = contents?.data;
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Fields) : {};
}

async function loadBucket(ctx: ServiceContext, id: string): Promise<CollectionRecord> {
  const bucket = await ctx.store.collections.get(BUCKETS, id);
  if (!bucket) throw missingRecord('bucket', id);
  return bucket;
}

function activity(ctx: ServiceContext, request: FastifyRequest, caller: Caller | null, bucket: CollectionRecord, extra: Fields) {
  return recordActivity(ctx, request, caller, 'bucket_update', {
    description: typeof bucket.title === 'string' ? bucket.title : bucket.id,
    keywords: [bucket.id],
    bucket: { id: bucket.id, title: bucket.title },
    ...extra,
  });
}

/** Where a file goes: the key of the file with the same name when there is one (it is replaced), else a new folder. */
function placeFile(bucketId: string, name: string, files: readonly StoredFile[]): string {
  return files.find((f) => f.filename === name)?.path ?? `${folderOf(bucketId)}/${randomFolder()}/${name}`;
}

async function receiveFiles(
  ctx: ServiceContext,
  blobs: BlobStore,
  request: FastifyRequest,
  caller: Caller,
): Promise<{ bucket: CollectionRecord; files: StoredFile[] }> {
  if (!request.isMultipart()) throw new Errors.api('upload_bucket_files needs a multipart/form-data request');
  const query = (request.query ?? {}) as Fields;
  let bucketId = typeof query.bucket === 'string' ? query.bucket : undefined;
  let bucket: CollectionRecord | undefined;
  let stored = filesOf(undefined);
  const written: StoredFile[] = [];
  let failure: unknown;
  try {
    for await (const part of request.parts({ limits: { fileSize: MAX_BUCKET_FILE_SIZE + 1, files: MAX_FILES_PER_BUCKET, fields: 20 } })) {
      if (part.type === 'field') {
        if (part.fieldname === 'bucket' && typeof part.value === 'string') bucketId = part.value;
        continue;
      }
      if (!bucket) {
        if (!bucketId || !BUCKET_ID.test(bucketId))
          throw new Errors.api('Missing or malformed bucket id (send the bucket field before the files)');
        bucket = await loadBucket(ctx, bucketId);
        stored = filesOf(await ctx.store.collections.get(BUCKET_CONTENTS, bucket.id));
      }
      const name = urlName(part.filename);
      if (!name) throw new Errors.api('Unnamed file uploads are refused');
      const known = [...stored, ...written];
      if (!known.some((f) => f.filename === name) && known.length >= MAX_FILES_PER_BUCKET) {
        throw new Errors.api(`A bucket holds at most ${MAX_FILES_PER_BUCKET} files`);
      }
      const path = placeFile(bucket.id, name, known);
      const info = await blobs.put(path, part.file, { maxBytes: MAX_BUCKET_FILE_SIZE, minBytes: 1 });
      const entry: StoredFile = {
        id: generateId('f'),
        filename: name,
        path,
        size: info.size,
        date: now(),
        username: caller.username,
        bucket: bucket.id,
      };
      const index = written.findIndex((f) => f.filename === name);
      if (index >= 0) written[index] = entry;
      else written.push(entry);
    }
  } catch (error) {
    failure = error;
  }
  // The list always matches what is in storage: files written before a failure are recorded too.
  if (bucket && written.length > 0) {
    const names = new Set(written.map((f) => f.filename));
    const contents = await mutateSide(ctx.store, BUCKET_CONTENTS, bucket.id, (current) => ({
      files: [...filesOf(current).filter((f) => !names.has(f.filename)), ...written],
    }));
    stored = filesOf(contents);
  }
  if (failure) {
    if (failure instanceof BlobTooLargeError || failure instanceof BlobTooSmallError) throw new Errors.api(failure.message);
    throw failure;
  }
  if (!bucket) throw new Errors.api(bucketId ? 'No files were uploaded' : 'Missing bucket id');
  return { bucket, files: stored };
}

export function bucketRoutes(ctx: ServiceContext): Implementation[] {
  const blobs = blobStoreFor(ctx.config);
  let routes = crudRoutes(bucketsApi, ctx, { defaults: { enabled: true, icon: '', notes: '' } });

  // create: the bucket first (a duplicate id must not touch another bucket's contents), then its contents.
  routes = wrapHandler(routes, bucketsApi.create, (original) => async (call) => {
    const { data = {}, ...rest } = call.params as Fields & { data?: Fields };
    const answer = (await original({ ...call, params: rest })) as { bucket: { id: string } };
    try {
      await mutateSide(ctx.store, BUCKET_CONTENTS, answer.bucket.id, () => ({ data, files: [] }));
    } catch (error) {
      await ctx.store.collections.delete(BUCKETS, answer.bucket.id);
      throw error;
    }
    return answer as never;
  });

  // update: `data`, when given, replaces the data (a top-level key of the shallow merge).
  routes = wrapHandler(routes, bucketsApi.update, (original) => async (call) => {
    const { data, ...rest } = call.params as Fields & { id: string; data?: Fields };
    const answer = await original({ ...call, params: rest });
    if (data !== undefined) await mutateSide(ctx.store, BUCKET_CONTENTS, rest.id, () => ({ data }));
    return answer;
  });

  routes = wrapHandler(
    routes,
    bucketsApi.get,
    (original) => async (call) => {
      const answer = (await original(call)) as { bucket: { id: string } };
      const contents = await ctx.store.collections.get(BUCKET_CONTENTS, answer.bucket.id);
      return { ...answer, data: dataOf(contents), files: filesOf(contents) } as never;
    },
    getBucket as ApiDescriptor,
  );

  routes = wrapHandler(routes, bucketsApi.delete, (original) => async (call) => {
    const answer = await original(call);
    const { id } = call.params as { id: string };
    await ctx.store.collections.delete(BUCKET_CONTENTS, id);
    await blobs.deletePrefix(folderOf(id));
    return answer;
  });

  routes.push(
    implement(writeBucketData, async ({ params, caller, request }) => {
      const bucket = await loadBucket(ctx, params.id);
      const contents = await mutateSide(ctx.store, BUCKET_CONTENTS, bucket.id, (current) => ({
        data: { ...dataOf(current), ...params.data },
      }));
      await activity(ctx, request, caller, bucket, { changed: ['data'], keys: Object.keys(params.data) });
      return { code: 0 as const, data: dataOf(contents) };
    }),

    implement(uploadBucketFiles, (async ({ caller, request }) => {
      const { bucket, files } = await receiveFiles(ctx, blobs, request, caller as Caller);
      await activity(ctx, request, caller, bucket, { changed: ['files'] });
      return { code: 0 as const, files };
    }) as ApiHandler<typeof uploadBucketFiles>),

    implement(deleteBucketFile, async ({ params, caller, request }) => {
      const bucket = await loadBucket(ctx, params.id);
      const name = filesOf(await ctx.store.collections.get(BUCKET_CONTENTS, bucket.id)).some((f) => f.filename === params.filename)
        ? params.filename
        : urlName(params.filename);
      let removed: StoredFile | undefined;
      await mutateSide(ctx.store, BUCKET_CONTENTS, bucket.id, (current) => {
        const files = filesOf(current);
        removed = files.find((f) => f.filename === name);
        return { files: files.filter((f) => f.filename !== name) };
      });
      if (!removed) throw new RecordError('bucket', `File not found in bucket: ${params.filename}`, 404);
      // Only a path the bucket itself recorded is deleted, never one taken from the request.
      await blobs.delete(removed.path);
      await activity(ctx, request, caller, bucket, { changed: ['files'], deleted: removed.filename });
      return { code: 0 as const };
    }),

    implement(emptyBucket, async ({ params, caller, request }) => {
      const bucket = await loadBucket(ctx, params.id);
      await mutateSide(ctx.store, BUCKET_CONTENTS, bucket.id, () => ({ data: {}, files: [] }));
      await blobs.deletePrefix(folderOf(bucket.id));
      await activity(ctx, request, caller, bucket, { changed: ['data', 'files'] });
      return { code: 0 as const };
    }),
  );
  return routes;
}
