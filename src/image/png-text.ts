// Reads the text chunks (tEXt, zTXt, iTXt) of a PNG straight from its bytes: generation UIs store their
// prompt there (ComfyUI `prompt`/`workflow`, A1111 `parameters`, InvokeAI `invokeai_metadata`).
import { inflateSync } from 'node:zlib';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// A text chunk inflating past this is a zip bomb, not a prompt; real ComfyUI workflows are < 1 MiB.
const MAX_INFLATED_BYTES = 16 * 1024 * 1024;

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

function inflate(bytes: Uint8Array): Uint8Array | null {
  try {
    return inflateSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch {
    return null;
  }
}

/**
 * Returns the PNG's text entries, keyword → text (the first chunk of a keyword wins). Damaged or
 * oversized chunks are skipped: metadata is best effort and never fails the decode. Never throws.
 */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  const text: Record<string, string> = {};
  if (!isPng(bytes)) return text;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    const start = offset + 8;
    const end = start + length;
    if (end + 4 > bytes.length) break;
    if (type === 'IEND') break;
    if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') {
      const entry = readTextChunk(type, bytes.subarray(start, end));
      if (entry && !(entry[0] in text)) text[entry[0]] = entry[1];
    }
    offset = end + 4;
  }
  return text;
}

function readTextChunk(type: string, data: Uint8Array): [string, string] | null {
  const keywordEnd = data.indexOf(0);
  if (keywordEnd <= 0) return null;
  const keyword = latin1.decode(data.subarray(0, keywordEnd));
  const rest = data.subarray(keywordEnd + 1);
  if (type === 'tEXt') return [keyword, decodeLatin1OrUtf8(rest)];
  if (type === 'zTXt') {
    // rest[0] is the compression method; 0 (deflate) is the only one defined.
    const inflated = rest[0] === 0 ? inflate(rest.subarray(1)) : null;
    return inflated ? [keyword, decodeLatin1OrUtf8(inflated)] : null;
  }
  // iTXt: compression flag, method, language tag \0, translated keyword \0, UTF-8 text.
  const compressed = rest[0] === 1;
  const languageEnd = rest.indexOf(0, 2);
  if (languageEnd === -1) return null;
  const translatedEnd = rest.indexOf(0, languageEnd + 1);
  if (translatedEnd === -1) return null;
  const body = rest.subarray(translatedEnd + 1);
  const raw = compressed ? inflate(body) : body;
  return raw ? [keyword, utf8.decode(raw)] : null;
}
