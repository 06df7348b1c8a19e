/**
 * MurmurHash3 x86 32-bit, and the favicon hash Shodan (and every tool that follows it) uses:
 * the hash of the base64 text with a newline after every 76 characters and at the end, as
 * Python's base64.encodebytes writes it, read as a signed 32-bit integer.
 */

/** MurmurHash3 x86 32-bit of `data` as an unsigned integer. */
export function murmurHash3x86(data: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = data.length & ~3;
  for (let i = 0; i < blocks; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = data.length & 3;
  if (tail > 0) {
    let k = 0;
    if (tail === 3) k ^= data[blocks + 2]! << 16;
    if (tail >= 2) k ^= data[blocks + 1]! << 8;
    k ^= data[blocks]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Base64 with a newline after every 76 characters and at the end (base64.encodebytes). */
export function base64Lines(data: Uint8Array): string {
  const flat = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  let out = '';
  for (let i = 0; i < flat.length; i += 76) out += flat.slice(i, i + 76) + '\n';
  return out;
}

/** Shodan-style favicon hash: signed MurmurHash3 (seed 0) of the line-wrapped base64. */
export function faviconHash(body: Uint8Array): number {
  return murmurHash3x86(Buffer.from(base64Lines(body), 'latin1')) | 0;
}
