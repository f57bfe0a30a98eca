/**
 * The default session id: 24 random bytes as 32 base64url characters, the format uid-safe gave
 * koa-generic-session. The bytes come from the CSPRNG in blocks, each byte used once: one
 * `randomFillSync` per 256 sids instead of one per sid (a per-request cost the profile showed).
 */
import { randomFillSync } from 'node:crypto';

const BLOCK = 24 * 256;
const pool = Buffer.allocUnsafe(BLOCK);
let offset = BLOCK;

export function randomSid(bytes: number): string {
  if (bytes > BLOCK) return randomFillSync(Buffer.allocUnsafe(bytes)).toString('base64url');
  if (offset + bytes > BLOCK) {
    randomFillSync(pool);
    offset = 0;
  }
  const sid = pool.toString('base64url', offset, offset + bytes);
  // Used bytes are overwritten so that a sid never stays readable in the pool.
  pool.fill(0, offset, offset + bytes);
  offset += bytes;
  return sid;
}
