// Reads the text chunks (tEXt, zTXt, iTXt) of a PNG straight from its bytes: generation UIs store their
// prompt there (ComfyUI `prompt`/`workflow`, A1111 `parameters`, InvokeAI `invokeai_metadata`).
// Every chunk is untrusted: one budget bounds all the text kept from an image, and compressed chunks are
// inflated only for the keywords the prompt readers use, each with its output capped by what is left.
import { inflateSync } from 'node:zlib';
import { PROMPT_TEXT_KEYS } from '../prompts/index.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Bytes of metadata text kept per image, all chunks (and EXIF) together, after inflating. Real ComfyUI
 * `prompt` + `workflow` chunks are well under 1 MiB; 300 inflated chunks once took a server to 4.5 GB.
 */
export const MAX_METADATA_TEXT_BYTES = 4 * 1024 * 1024;

export interface PngText {
  /** Keyword → text, the first chunk of a keyword winning; compressed chunks only for prompt keywords. */
  text: Record<string, string>;
  /** Why a prompt chunk was not read (the budget ran out); null when every prompt chunk was read. */
  problem: string | null;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

// tEXt/zTXt are Latin-1 by the spec, but several tools write UTF-8 there; valid multi-byte UTF-8 is
// practically never meaningful Latin-1, so valid UTF-8 is read as UTF-8.
function decodeLatin1OrUtf8(bytes: Uint8Array): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

const OVER_BUDGET = Symbol('over budget');

/** Inflates at most `maxBytes`; OVER_BUDGET past that, null for damaged data. Memory stays bounded by `maxBytes`. */
function inflate(bytes: Uint8Array, maxBytes: number): Uint8Array | null | typeof OVER_BUDGET {
  try {
    return inflateSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? OVER_BUDGET : null;
  }
}

// The keyword of a text chunk: 1–79 Latin-1 bytes then a NUL (a longer one is damage, not a keyword).
const MAX_KEYWORD_BYTES = 79;

/**
 * Returns the PNG's text entries (the first chunk of a keyword wins) within `maxBytes` of text in all.
 * Uncompressed chunks are kept while they fit; compressed ones are inflated only for the prompt readers'
 * keywords and never past what is left of the budget. A prompt chunk that does not fit sets `problem`
 * and ends the read; other chunks that do not fit, and damaged chunks, are skipped. Never throws.
 */
export function readPngText(bytes: Uint8Array, maxBytes: number = MAX_METADATA_TEXT_BYTES, only?: string): PngText {
  const result: PngText = { text: {}, problem: null };
  if (!isPng(bytes)) return result;
  const { text } = result;
  let left = maxBytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    const start = offset + 8;
    const end = start + length;
    if (end + 4 > bytes.length) break;
    if (type === 'IEND') break;
    offset = end + 4;
    if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') continue;
    const data = bytes.subarray(start, end);
    const keywordEnd = data.subarray(0, MAX_KEYWORD_BYTES + 1).indexOf(0);
    if (keywordEnd <= 0) continue;
    const keyword = latin1.decode(data.subarray(0, keywordEnd));
    if (keyword in text || (only !== undefined && keyword !== only)) continue;
    const wanted = PROMPT_TEXT_KEYS.has(keyword);
    const entry = readTextChunk(type, data.subarray(keywordEnd + 1), wanted, left);
    if (entry === OVER_BUDGET) {
      if (!wanted) continue;
      result.problem = `the image's metadata text is larger than the ${maxBytes} bytes read (at chunk "${keyword}")`;
      break;
    }
    if (entry === null) continue;
    text[keyword] = entry.text;
    left -= entry.bytes;
  }
  return result;
}

/** One chunk's text after the keyword: null when damaged or not worth inflating, OVER_BUDGET past `left` bytes. */
function readTextChunk(
  type: string,
  rest: Uint8Array,
  wanted: boolean,
  left: number,
): { text: string; bytes: number } | null | typeof OVER_BUDGET {
  const plain = (raw: Uint8Array, decode: (b: Uint8Array) => string) =>
    raw.length > left ? OVER_BUDGET : { text: decode(raw), bytes: raw.length };
  const inflated = (body: Uint8Array, decode: (b: Uint8Array) => string) => {
    if (!wanted) return null;
    const raw = inflate(body, left);
    return raw === null || raw === OVER_BUDGET ? raw : { text: decode(raw), bytes: raw.length };
  };
  if (type === 'tEXt') return plain(rest, decodeLatin1OrUtf8);
  // zTXt: rest[0] is the compression method; 0 (deflate) is the only one defined.
  if (type === 'zTXt') return rest[0] === 0 ? inflated(rest.subarray(1), decodeLatin1OrUtf8) : null;
  // iTXt: compression flag, method, language tag \0, translated keyword \0, UTF-8 text.
  const compressed = rest[0] === 1;
  const languageEnd = rest.indexOf(0, 2);
  if (languageEnd === -1) return null;
  const translatedEnd = rest.indexOf(0, languageEnd + 1);
  if (translatedEnd === -1) return null;
  const body = rest.subarray(translatedEnd + 1);
  const decode = (raw: Uint8Array) => utf8.decode(raw);
  return compressed ? inflated(body, decode) : plain(body, decode);
}

/**
 * The PNG without its tEXt/zTXt/iTXt chunks, for the pixel decoder: libvips inflates and copies every
 * text chunk it meets (40 chunks of 1 MiB cost it ~200 MB) and refuses a file past its own chunk limit,
 * while the text is read here, within budget. Returns `bytes` itself when there is nothing to drop; data
 * past a damaged chunk is kept as is, for the decoder to judge. Never throws.
 */
export function withoutTextChunks(bytes: Uint8Array): Uint8Array {
  if (!isPng(bytes)) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [];
  let keptFrom = 0;
  let dropped = false;
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const end = offset + 12 + view.getUint32(offset);
    if (end > bytes.length) break;
    const type = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') {
      kept.push(bytes.subarray(keptFrom, offset));
      keptFrom = end;
      dropped = true;
    }
    if (type === 'IEND') break;
    offset = end;
  }
  if (!dropped) return bytes;
  kept.push(bytes.subarray(keptFrom));
  return Buffer.concat(kept);
}
