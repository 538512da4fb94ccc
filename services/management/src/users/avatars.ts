/**
 * Avatars (api-sections §8a): an uploaded image becomes two square PNGs, 64 and 256 px, stored as blobs under
 * `users/<user key>/avatar/<size>.png`. The user key (non-word characters removed) keeps the path safe.
 */
import { type BlobStore, Errors, userKey } from '@shallot/core';
import sharp from 'sharp';

export const AVATAR_SIZES = [64, 256] as const;
/** Largest accepted upload. */
export const MAX_AVATAR_BYTES = 10 * 1024 * 1024;
/** Decompression-bomb guard: refuse images with more pixels than this. */
const MAX_INPUT_PIXELS = 40_000_000;

export const avatarKey = (username: string, size: (typeof AVATAR_SIZES)[number]): string => `users/${userKey(username)}/avatar/${size}.png`;

/** The stored size to serve for a requested one: 64 when N ≤ 64, else 256. */
export const servedSize = (requested: number | undefined): (typeof AVATAR_SIZES)[number] =>
  requested !== undefined && requested <= 64 ? 64 : 256;

async function resize(image: Buffer, size: number): Promise<Buffer> {
  return sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .resize(size, size, { fit: 'cover' })
    .png()
    .toBuffer();
}

/** Decodes the upload and stores both sizes; anything that is not a readable image is an `api` error. */
export async function storeAvatar(blobs: BlobStore, username: string, image: Buffer): Promise<void> {
  let resized: Buffer[];
  try {
    resized = await Promise.all(AVATAR_SIZES.map((size) => resize(image, size)));
  } catch {
    throw new Errors.api('The avatar must be an image (PNG, JPEG, GIF, WebP, …) of at most 40 megapixels');
  }
  await Promise.all(AVATAR_SIZES.map((size, i) => blobs.put(avatarKey(username, size), resized[i] as Buffer)));
}

export async function deleteAvatar(blobs: BlobStore, username: string): Promise<void> {
  await blobs.deletePrefix(`users/${userKey(username)}/avatar`);
}

let fallback: Map<number, Buffer> | undefined;

/** The image served when a user has no avatar: a plain grey square, rendered once per size. */
export async function defaultAvatar(size: (typeof AVATAR_SIZES)[number]): Promise<Buffer> {
  fallback ??= new Map();
  let image = fallback.get(size);
  if (!image) {
    image = await sharp({ create: { width: size, height: size, channels: 4, background: { r: 160, g: 166, b: 173, alpha: 1 } } })
      .png()
      .toBuffer();
    fallback.set(size, image);
  }
  return image;
}
