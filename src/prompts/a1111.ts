// Parses the `parameters` text that AUTOMATIC1111/Forge write into PNG text chunks and JPEG/WebP EXIF:
//   <prompt, possibly several lines>
//   Negative prompt: <negative, possibly several lines>
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model: x, ...

export interface A1111Parameters {
  prompt: string;
  /** Null when the text has no `Negative prompt:` line. */
  negativePrompt: string | null;
  /** The `Key: value` pairs of the settings line (quoted values unquoted), e.g. `{ Steps: '20' }`. */
  settings: Record<string, string>;
}

const NEGATIVE_PREFIX = 'Negative prompt:';
// The settings line: starts with `Steps:`; A1111 itself also requires several `key: value` pairs.
const SETTINGS_LINE = /^Steps:\s*\d/;
const SETTING = /\s*([^,:]+):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;

function parseSettings(line: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const match of line.matchAll(SETTING)) {
    const key = match[1]!.trim();
    let value = match[2]!.trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        value = value.slice(1, -1);
      }
    }
    if (key !== '') settings[key] = value;
  }
  return settings;
}

/** Splits A1111/Forge `parameters` text into prompt, negative prompt and settings. Never throws. */
export function parseA1111Parameters(text: string): A1111Parameters {
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
    return { prompt: body.join('\n').trim(), negativePrompt: null, settings };
  }
  const first = body[negativeIndex]!.trimStart().slice(NEGATIVE_PREFIX.length);
  const negative = [first, ...body.slice(negativeIndex + 1)].join('\n').trim();
  return { prompt: body.slice(0, negativeIndex).join('\n').trim(), negativePrompt: negative, settings };
}
