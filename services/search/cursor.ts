/**
 * A page cursor: the (score, id) of the last result shown, so the next page starts right after it
 * (keyset, not an offset: items added or removed ahead of it since do not shift the next page).
 */
import type { Key } from './rank.js';

export function encodeCursor(k: Key): string {
  return Buffer.from(JSON.stringify([k.score, k.id])).toString('base64url');
}

/** The key of a cursor this node gave, or null when it is not one. */
export function decodeCursor(c: string): Key | null {
  if (c.length > 400 || !/^[A-Za-z0-9_-]+$/.test(c)) return null;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(c, 'base64url').toString());
  } catch {
    return null;
  }
  if (!Array.isArray(v) || v.length !== 2) return null;
  const [score, id] = v;
  if (typeof score !== 'number' || !Number.isFinite(score) || typeof id !== 'string') return null;
  return { score, id };
}
