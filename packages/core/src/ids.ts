/** Sortable short ids: prefix + base36(ms) + base36(counter) + random, 16 characters (spec §0). */
import { randomBytes } from 'node:crypto';

const ID_LENGTH = 16;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
let counter = 0;

/** Random bytes are drawn from a pool: one system call per 4 KiB instead of one per id (request ids are hot). */
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;

function randomByte(): number {
  if (poolOffset >= POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  return pool[poolOffset++] ?? 0;
}

export function generateId(prefix: string): string {
  counter = (counter + 1) % 1296;
  const head = `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(2, '0')}`;
  let tail = '';
  while (head.length + tail.length < ID_LENGTH) tail += ALPHABET[randomByte() % ALPHABET.length];
  return head + tail;
}

/** A random token (hex) for CSRF tokens, keys and secrets. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}
