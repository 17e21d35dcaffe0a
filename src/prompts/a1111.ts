// Parses the `parameters` text that AUTOMATIC1111/Forge write into PNG text chunks and JPEG/WebP EXIF:
//   <prompt, possibly several lines>
//   Negative prompt: <negative, possibly several lines>
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model: x, ...
// Parsed by hand in one pass: the text is untrusted, and a backtracking pattern over the settings line
// took seconds on a 40 k-character line.
import { MAX_PARAMETERS_CHARS } from './limits.js';

export interface A1111Parameters {
  prompt: string;
  /** Null when the text has no `Negative prompt:` line. */
  negativePrompt: string | null;
  /** The `Key: value` pairs of the settings line (quoted values unquoted), e.g. `{ Steps: '20' }`. */
  settings: Record<string, string>;
  /** Why the text was not read (longer than the reader's budget); null when it was. */
  problem: string | null;
}

const NEGATIVE_PREFIX = 'Negative prompt:';
// The settings line: starts with `Steps:`; A1111 itself also requires several `key: value` pairs.
const SETTINGS_LINE = /^Steps:\s*\d/;

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}

/** The end (index after the closing quote) of the JSON-style string starting at `start`, or -1 if unclosed. */
function quotedEnd(line: string, start: number): number {
  for (let i = start + 1; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '"') return i + 1;
  }
  return -1;
}

function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    return value.slice(1, -1);
  }
}

/** `Key: value, Key: "quoted, value", …` → pairs; a segment without a colon is skipped. Linear in the line. */
function parseSettings(line: string): Record<string, string> {
  const settings: Record<string, string> = {};
  let pos = 0;
  while (pos < line.length) {
    const keyStart = pos;
    while (pos < line.length && line[pos] !== ':' && line[pos] !== ',') pos++;
    if (pos >= line.length) break;
    if (line[pos] === ',') {
      pos++;
      continue;
    }
    const key = line.slice(keyStart, pos).trim();
    pos++;
    while (isSpace(line[pos])) pos++;
    let valueEnd = -1;
    if (line[pos] === '"') {
      const end = quotedEnd(line, pos);
      // A quoted value counts only when the pair ends right after it; otherwise it is plain text.
      if (end !== -1 && (end === line.length || line[end] === ',')) valueEnd = end;
    }
    if (valueEnd === -1) {
      const comma = line.indexOf(',', pos);
      valueEnd = comma === -1 ? line.length : comma;
    }
    const value = unquote(line.slice(pos, valueEnd).trim());
    if (key !== '') settings[key] = value;
    pos = valueEnd + 1;
  }
  return settings;
}

/**
 * Splits A1111/Forge `parameters` text into prompt, negative prompt and settings, in time linear in its
 * length. A text longer than `maxChars` is not read: empty prompt and a `problem`. Never throws.
 */
export function parseA1111Parameters(text: string, maxChars: number = MAX_PARAMETERS_CHARS): A1111Parameters {
  if (text.length > maxChars) {
    return {
      prompt: '',
      negativePrompt: null,
      settings: {},
      problem: `the A1111 parameters text is ${text.length} characters, more than the ${maxChars} read`,
    };
  }
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  // The last `Steps:` line ends the negative prompt; lines after it (rare extensions' extras) are ignored.
  let settingsIndex = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (SETTINGS_LINE.test(lines[i]!.trim())) {
      settingsIndex = i;
      break;
    }
  }
  const body = settingsIndex === -1 ? lines : lines.slice(0, settingsIndex);
  const settings = settingsIndex === -1 ? {} : parseSettings(lines[settingsIndex]!.trim());
  const negativeIndex = body.findIndex((line) => line.trimStart().startsWith(NEGATIVE_PREFIX));
  if (negativeIndex === -1) {
    return { prompt: body.join('\n').trim(), negativePrompt: null, settings, problem: null };
  }
  const first = body[negativeIndex]!.trimStart().slice(NEGATIVE_PREFIX.length);
  const negative = [first, ...body.slice(negativeIndex + 1)].join('\n').trim();
  return { prompt: body.slice(0, negativeIndex).join('\n').trim(), negativePrompt: negative, settings, problem: null };
}
