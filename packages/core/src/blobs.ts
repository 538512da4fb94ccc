/**
 * Files (bucket files, uploads, job files, archived logs) behind one small interface, with a filesystem engine
 * under the data dir. Keys look like `files/bucket/<id>/<rand>/<name>` (spec/behaviour.md §12); every key is
 * checked segment by segment, so no key can reach outside the storage root.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Characters a key segment may hold: what `urlName`, ids, usernames and url-safe base64 produce. */
const SEGMENT = /^[\w\-.]+$/;
const MAX_KEY_LENGTH = 1024;
const MAX_NAME_LENGTH = 200;

export class BlobKeyError extends Error {
  override readonly name = 'BlobKeyError';
}

export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`File is larger than the limit of ${maxBytes} bytes`);
  }
}

export class BlobTooSmallError extends Error {
  override readonly name = 'BlobTooSmallError';
  constructor(readonly minBytes: number) {
    super(minBytes === 1 ? 'Empty files are refused' : `File is smaller than ${minBytes} bytes`);
  }
}

export interface BlobInfo {
  key: string;
  size: number;
  /** Epoch seconds. */
  modified: number;
}

export interface PutOptions {
  /** Refuse (and leave nothing behind) when the data is larger. */
  maxBytes?: number;
  /** Refuse (and leave any existing object untouched) when the data is smaller, e.g. 1 for "no empty files". */
  minBytes?: number;
}

export interface BlobStore {
  /** Writes atomically: readers see the old object or the new one, never a partial file. */
  put(key: string, data: Buffer | string | Readable, options?: PutOptions): Promise<BlobInfo>;
  get(key: string): Promise<Buffer | undefined>;
  /** A stream of the object, or undefined when it does not exist. */
  stream(key: string): Promise<Readable | undefined>;
  stat(key: string): Promise<BlobInfo | undefined>;
  /** Returns false when the object did not exist. */
  delete(key: string): Promise<boolean>;
  /** Removes every object under `prefix/` (a whole folder, e.g. a bucket's files). */
  deletePrefix(prefix: string): Promise<void>;
}

/** Checks a storage key: relative, `/`-separated, every segment from [\w-.] and none of them `.` or `..`. */
export function checkKey(key: string): string {
  if (typeof key !== 'string' || !key || key.length > MAX_KEY_LENGTH) throw new BlobKeyError('Invalid storage key');
  const segments = key.split('/');
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || /^\.+$/.test(segment)) throw new BlobKeyError(`Invalid storage key: ${key}`);
  }
  return key;
}

/**
 * The storage form of an uploaded file name: lowercase, every character outside [\w-.] replaced by `_`, so path
 * separators cannot survive; a name of dots only cannot become `.` or `..`; `.bin` is appended when there is no
 * extension. Returns undefined for an unnamed upload.
 */
export function urlName(name: string): string | undefined {
  const base = String(name ?? '').trim();
  if (!base) return undefined;
  let out = base.toLowerCase().replace(/[^\w\-.]/g, '_');
  if (/^\.+$/.test(out)) out = out.replace(/\./g, '_');
  if (out.length > MAX_NAME_LENGTH) out = out.slice(out.length - MAX_NAME_LENGTH);
  if (!/.\.[\w-]+$/.test(out)) out += '.bin';
  return out;
}

/** The display form of a file name: the last path component, without control characters or markup. */
export function cleanName(name: string): string {
  const last =
    String(name ?? '')
      .split(/[\\/]/)
      .pop() ?? '';
  // Control characters (code points below 0x20 and 0x7f) and markup characters are dropped.
  const cleaned = [...last]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f && !'<>"'.includes(c))
    .join('')
    .trim()
    .slice(0, MAX_NAME_LENGTH);
  return /^\.+$/.test(cleaned) ? '' : cleaned;
}

/** 32 random bytes, url-safe base64: the unguessable folder of a stored file. */
export function randomFolder(): string {
  return randomBytes(32).toString('base64url');
}

function byteLimit(maxBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > maxBytes) callback(new BlobTooLargeError(maxBytes));
      else callback(null, chunk);
    },
  });
}

/** The filesystem engine: each key is a file under `root`. */
export class FsBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, ...checkKey(key).split('/'));
    // Belt and braces: the segment check already rules out traversal.
    if (!path.startsWith(this.root + sep)) throw new BlobKeyError(`Invalid storage key: ${key}`);
    return path;
  }

  async put(key: string, data: Buffer | string | Readable, options: PutOptions = {}): Promise<BlobInfo> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    const source = typeof data === 'string' || Buffer.isBuffer(data) ? Readable.from([Buffer.from(data)]) : data;
    try {
      const sink = createWriteStream(temp, { flags: 'wx' });
      if (options.maxBytes !== undefined) await pipeline(source, byteLimit(options.maxBytes), sink);
      else await pipeline(source, sink);
      if (options.minBytes !== undefined && (await stat(temp)).size < options.minBytes) {
        throw new BlobTooSmallError(options.minBytes);
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    const info = await this.stat(key);
    if (!info) throw new Error(`Stored object vanished: ${key}`);
    return info;
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async stream(key: string): Promise<Readable | undefined> {
    const info = await this.stat(key);
    return info ? createReadStream(this.pathOf(key)) : undefined;
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { key, size: s.size, modified: Math.floor(s.mtimeMs / 1000) } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(key));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const trimmed = prefix.replace(/\/+$/, '');
    await rm(this.pathOf(trimmed), { recursive: true, force: true });
  }
}

/** The default blob store of a deployment: `<dataDir>/storage`. */
export function blobStoreFor(config: { dataDir: string }): BlobStore {
  return new FsBlobStore(join(resolve(config.dataDir), 'storage'));
}
