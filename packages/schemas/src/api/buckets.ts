/** Storage buckets (seed 001 §Buckets): definitions, their JSON data and their files. */
import { Type } from '@sinclair/typebox';
import { DefinitionId, crudApi } from '../crud.js';
import { defineApi } from '../descriptor.js';
import { Ok, OkEmpty } from '../responses.js';
import { BucketData, Bucket, StoredFile } from '../records/bucket.js';

export const bucketsApi = crudApi({
  singular: 'bucket',
  plural: 'buckets',
  idPrefix: 'b',
  record: Bucket,
  privileges: { create: 'create_buckets', edit: 'edit_buckets', delete: 'delete_buckets' },
});

/** get_bucket also answers the bucket's data and file list. */
export const getBucket = {
  ...bucketsApi.get,
  summary: 'Fetch one bucket by id, with its data and its file list',
  response: Ok({ bucket: bucketsApi.row, data: BucketData, files: Type.Array(StoredFile) }),
};

export const writeBucketData = defineApi({
  name: 'write_bucket_data',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_buckets',
  summary: "Shallow-merge keys into a bucket's data",
  params: Type.Object({ id: DefinitionId, data: BucketData }),
  response: Ok({ data: BucketData }),
});

export const uploadBucketFiles = defineApi({
  name: 'upload_bucket_files',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_buckets',
  summary:
    'Upload files into a bucket (multipart/form-data, field bucket = the bucket id); a file replaces the one with the ' +
    'same normalised name',
  // No params schema: the body is a multipart stream; the bucket id (query or form field) is checked by the handler.
  response: Ok({ files: Type.Array(StoredFile) }),
});

export const deleteBucketFile = defineApi({
  name: 'delete_bucket_file',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_buckets',
  summary: 'Delete one file of a bucket, by its normalised filename',
  params: Type.Object({ id: DefinitionId, filename: Type.String({ minLength: 1, maxLength: 256 }) }),
  response: OkEmpty,
});

export const emptyBucket = defineApi({
  name: 'empty_bucket',
  namespace: 'app',
  methods: ['POST'],
  service: 'management',
  privilege: 'edit_buckets',
  summary: 'Remove every file and all data of a bucket (the bucket itself stays)',
  params: Type.Object({ id: DefinitionId }),
  response: OkEmpty,
});

export const BUCKETS_API = [
  ...bucketsApi.all.map((d) => (d === bucketsApi.get ? getBucket : d)),
  writeBucketData,
  uploadBucketFiles,
  deleteBucketFile,
  emptyBucket,
];
