// Pulls prompt-bearing text out of an EXIF block (JPEG/WebP/TIFF/AVIF): A1111/Forge write `parameters`
// into UserComment; ComfyUI's WebP save writes "prompt:<json>" / "workflow:<json>" into IFD0 strings.
import exifReader from 'exif-reader';

const utf8 = new TextDecoder('utf-8');

// Trailing NULs pad EXIF strings. Trimmed by hand: `/\0+$/` retries from every NUL of a long run
// that does not end the string, quadratic on hostile text.
function trimTrailingNuls(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return text.slice(0, end);
}

function toText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  // exif-reader hands back non-ASCII "ASCII" strings as raw bytes; writers put UTF-8 there.
  if (Buffer.isBuffer(value)) return trimTrailingNuls(utf8.decode(value));
  return null;
}

/**
 * Decodes an EXIF UserComment: an 8-byte character-code prefix, then the text. "UNICODE" text is
 * UTF-16; A1111 (piexif) writes it big-endian whatever the TIFF byte order, so the byte order is read
 * from where the zero bytes of mostly-ASCII text fall.
 */
export function decodeUserComment(value: Uint8Array): string {
  const prefix = Buffer.from(value.subarray(0, 8)).toString('latin1');
  const body = Buffer.from(value.subarray(8));
  let text: string;
  if (prefix.startsWith('UNICODE')) {
    let evenZeros = 0;
    let oddZeros = 0;
    for (let i = 0; i + 1 < body.length; i += 2) {
      if (body[i] === 0) evenZeros++;
      if (body[i + 1] === 0) oddZeros++;
    }
    const utf16 = Buffer.from(body.subarray(0, body.length - (body.length % 2)));
    if (evenZeros > oddZeros) utf16.swap16();
    text = utf16.toString('utf16le');
  } else if (prefix.startsWith('ASCII') || prefix === '\0\0\0\0\0\0\0\0') {
    text = utf8.decode(body);
  } else {
    text = utf8.decode(value);
  }
  return trimTrailingNuls(text);
}

/** Returns the prompt-bearing EXIF entries as keyword → text. Damaged EXIF yields {}. Never throws. */
export function readExifText(exif: Buffer): Record<string, string> {
  const text: Record<string, string> = {};
  let parsed: ReturnType<typeof exifReader>;
  try {
    parsed = exifReader(exif);
  } catch {
    return text;
  }
  const comment = parsed.Photo?.UserComment as unknown;
  if (comment instanceof Uint8Array) {
    const decoded = decodeUserComment(comment);
    if (decoded.trim() !== '') text.parameters = decoded;
  } else if (typeof comment === 'string' && comment.trim() !== '') {
    text.parameters = comment;
  }
  for (const [tag, value] of Object.entries(parsed.Image ?? {})) {
    const str = toText(value);
    if (str === null) continue;
    const match = /^(prompt|workflow):/.exec(str);
    if (match) text[match[1]!] ??= str.slice(match[0].length);
    else if (tag === 'ImageDescription' && str.trim() !== '') text.ImageDescription = str;
  }
  return text;
}
