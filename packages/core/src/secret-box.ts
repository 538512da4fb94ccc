/**
 * Secret values at rest (spec/data-structures.md §15): AES-256-GCM, a key derived per record with
 * scrypt(N=16384, r=8, p=1) from the service's secret key and a random 16-byte salt, a random 12-byte IV, and the
 * secret's id as additional data so a blob copied onto another secret fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';

export const SECRET_ALGORITHM = 'aes-256-gcm';
const SALT_BYTES = 16;
const IV_BYTES = 12;
const KEY_BYTES = 32;
const SCRYPT_OPTIONS = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** One secret variable as clients send it (`fields` of create_secret / update_secret). */
export interface SecretField {
  name: string;
  value: string;
}

/** The stored blob; every binary part is base64. */
export interface SealedSecret {
  alg: typeof SECRET_ALGORITHM;
  salt: string;
  iv: string;
  tag: string;
  ct: string;
}

/** Decryption failed: wrong key, tampered blob, or a blob that belongs to another secret. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

function deriveKey(secretKey: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secretKey, salt, KEY_BYTES, SCRYPT_OPTIONS, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Encrypts the fields of secret `id`. */
export async function sealSecret(secretKey: string, id: string, fields: readonly SecretField[]): Promise<SealedSecret> {
  if (!secretKey) throw new SecretBoxError('No secret key is configured');
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const key = await deriveKey(secretKey, salt);
  const cipher = createCipheriv(SECRET_ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(id, 'utf8'));
  const plain = Buffer.from(JSON.stringify(fields.map(({ name, value }) => ({ name, value }))), 'utf8');
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    alg: SECRET_ALGORITHM,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ct: ct.toString('base64'),
  };
}

function isSealed(value: unknown): value is SealedSecret {
  const v = value as Partial<SealedSecret> | null;
  return (
    !!v &&
    v.alg === SECRET_ALGORITHM &&
    typeof v.salt === 'string' &&
    typeof v.iv === 'string' &&
    typeof v.tag === 'string' &&
    typeof v.ct === 'string'
  );
}

/** Decrypts the fields of secret `id`; throws SecretBoxError (never the plaintext) on any failure. */
export async function openSecret(secretKey: string, id: string, sealed: unknown): Promise<SecretField[]> {
  if (!isSealed(sealed)) throw new SecretBoxError('The stored secret is not a recognised blob');
  try {
    const key = await deriveKey(secretKey, Buffer.from(sealed.salt, 'base64'));
    const iv = Buffer.from(sealed.iv, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== 16) throw new SecretBoxError('Malformed secret blob');
    const decipher = createDecipheriv(SECRET_ALGORITHM, key, iv);
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
    const fields: unknown = JSON.parse(plain.toString('utf8'));
    if (!Array.isArray(fields)) throw new SecretBoxError('Malformed secret payload');
    return fields.map((f) => ({ name: String((f as SecretField).name), value: String((f as SecretField).value) }));
  } catch (error) {
    if (error instanceof SecretBoxError) throw error;
    // The cause (e.g. "unable to authenticate data") says nothing about the values; keep it generic anyway.
    throw new SecretBoxError('The secret could not be decrypted');
  }
}
