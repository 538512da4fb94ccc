/**
 * A job's log while it runs (DESIGN "Queues and live state", behaviour §11): output is appended to a capped Redis
 * stream (what live tails read) and to a file; at completion the file becomes the job's inline `output` (≤ 1 MB) or a
 * gzipped blob. Appends are batched (every FLUSH_MS or FLUSH_BYTES) so a chatty job costs few Redis round trips.
 * Secret values are masked before anything is written.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createGzip } from 'node:zlib';
import { type BlobStore, LIVE_LOG_TTL_SECONDS, type RedisWiring, jobLogBlobKey, jobLogStreamKey } from '@shallot/core';

/** Logs up to this size are stored inline on the job (`max_inline_job_log_size`). */
export const MAX_INLINE_LOG_BYTES = 1024 * 1024;
/** Stream entries kept for live tails (each at most FLUSH_BYTES). */
export const LIVE_STREAM_MAX_ENTRIES = 512;
const FLUSH_MS = 100;
const FLUSH_BYTES = 64 * 1024;
const MASK = '[secret]';

export class LiveLog {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly file: WriteStream;
  private readonly secrets: string[];
  /** Bytes appended so far (`log_file_size`). */
  size = 0;

  private constructor(
    private readonly redis: RedisWiring,
    private readonly jobId: string,
    private readonly path: string,
    secrets: readonly string[],
  ) {
    this.file = createWriteStream(path, { flags: 'a' });
    this.file.on('error', () => {
      // A full disk must not crash the runner; the Redis stream still has the tail.
    });
    // Longer values first so one secret that contains another is masked whole.
    this.secrets = secrets.filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
  }

  static async open(redis: RedisWiring, jobId: string, path: string, secrets: readonly string[]): Promise<LiveLog> {
    await mkdir(dirname(path), { recursive: true });
    return new LiveLog(redis, jobId, path, secrets);
  }

  append(raw: string): void {
    if (!raw) return;
    let text = raw;
    for (const secret of this.secrets) if (text.includes(secret)) text = text.split(secret).join(MASK);
    this.size += Buffer.byteLength(text);
    this.file.write(text);
    this.pending += text;
    if (this.pending.length >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Sends what is pending to the stream; appends stay in order. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return this.flushing;
    const text = this.pending;
    this.pending = '';
    const key = jobLogStreamKey(this.jobId);
    this.flushing = this.flushing.then(async () => {
      try {
        await this.redis.client
          .multi()
          .xadd(key, 'MAXLEN', '~', String(LIVE_STREAM_MAX_ENTRIES), '*', 'c', text)
          .expire(key, LIVE_LOG_TTL_SECONDS)
          .exec();
      } catch {
        // Redis away for a moment: the file keeps the full log; the tail misses this chunk.
      }
    });
    return this.flushing;
  }

  /**
   * Closes the log and stores it: inline text when small, else a gzipped blob. Answers the job fields to set
   * (`output` and `log_file_size`). The file is removed; the live stream expires on its own.
   */
  async finish(blobs: BlobStore): Promise<{ output?: string; log_file_size: number }> {
    await this.flush();
    await new Promise<void>((resolve) => this.file.end(resolve));
    const fields: { output?: string; log_file_size: number } = { log_file_size: this.size };
    if (this.size > 0 && this.size <= MAX_INLINE_LOG_BYTES) fields.output = await readFile(this.path, 'utf8');
    else if (this.size > MAX_INLINE_LOG_BYTES) await blobs.put(jobLogBlobKey(this.jobId), createReadStream(this.path).pipe(createGzip()));
    await rm(this.path, { force: true });
    return fields;
  }
}
