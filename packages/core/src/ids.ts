/** Sortable short ids: prefix + base36(ms) + base36(counter) + random, 16 characters (spec §0). */
import { randomBytes } from 'node:crypto';

const ID_LENGTH = 16;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
let counter = 0;

export function generateId(prefix: string): string {
  counter = (counter + 1) % 1296;
  const head = `${prefix}${Date.now().toString(36)}${counter.toString(36).padStart(2, '0')}`;
  const bytes = randomBytes(ID_LENGTH);
  let tail = '';
  for (let i = 0; head.length + tail.length < ID_LENGTH; i++) tail += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
  return head + tail;
}

/** A random token (hex) for CSRF tokens, keys and secrets. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('hex');
}
