// Reads InvokeAI's embedded metadata: `invokeai_metadata` (3.x+, flat JSON with positive_prompt /
// negative_prompt), the older `sd-metadata` (2.x: `image.prompt`; 1.x, lstein/stable-diffusion:
// `images[0].prompt`; either a string or [{prompt, weight}]) and 1.x's `Dream` command line.
import { parseBoundedJson } from './bounded-json.js';
import { MAX_PARAMETERS_CHARS } from './limits.js';

export interface PromptPair {
  prompt: string | null;
  negativePrompt: string | null;
}

function parseObject(text: string): Record<string, unknown> | null {
  // JSON.parse is linear, but a text past the budget is not worth the memory of its parse.
  if (text.length > MAX_PARAMETERS_CHARS) return null;
  const parsed = parseBoundedJson(text, 'InvokeAI');
  const value = parsed.ok ? parsed.value : null;
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/** Reads `invokeai_metadata` JSON; null when it is not JSON or carries no prompt. Never throws. */
export function parseInvokeAIMetadata(text: string): PromptPair | null {
  const meta = parseObject(text);
  if (!meta) return null;
  const prompt = nonEmpty(meta.positive_prompt) ?? nonEmpty(meta.positive_style_prompt);
  const negativePrompt = nonEmpty(meta.negative_prompt) ?? nonEmpty(meta.negative_style_prompt);
  return prompt === null && negativePrompt === null ? null : { prompt, negativePrompt };
}

// InvokeAI 1.x/2.x wrote the negative prompt inline, in square brackets: "a cat [blurry, dog]". Scanned
// by hand: a pattern for `[…]` rescans to the end from every unclosed `[`, quadratic on "[[[[…".
function splitBracketNegative(prompt: string): PromptPair {
  const negatives: string[] = [];
  let positive = '';
  let pos = 0;
  while (pos < prompt.length) {
    const open = prompt.indexOf('[', pos);
    const close = open === -1 ? -1 : prompt.indexOf(']', open + 1);
    if (close === -1) {
      positive += prompt.slice(pos);
      break;
    }
    // The innermost `[` before the `]` opens the group, as `\[([^\]]*)\]` matched.
    const start = prompt.lastIndexOf('[', close);
    positive += prompt.slice(pos, start);
    const inner = prompt.slice(start + 1, close).trim();
    if (inner !== '') negatives.push(inner);
    pos = close + 1;
  }
  return {
    prompt: nonEmpty(positive.replace(/\s{2,}/g, ' ')),
    negativePrompt: negatives.length > 0 ? negatives.join(', ') : null,
  };
}

/**
 * Reads the legacy `sd-metadata` JSON: 2.x's `image` object or 1.x's `images` array (its first image).
 * Null when it is not JSON or carries no prompt. Never throws.
 */
export function parseInvokeAILegacyMetadata(text: string): PromptPair | null {
  const meta = parseObject(text);
  const image = meta?.image ?? (Array.isArray(meta?.images) ? meta.images[0] : undefined);
  if (image === null || typeof image !== 'object') return null;
  const raw = (image as Record<string, unknown>).prompt;
  let prompt: string | null = null;
  if (typeof raw === 'string') {
    prompt = raw;
  } else if (Array.isArray(raw)) {
    const texts = raw
      .map((p: unknown) => (p !== null && typeof p === 'object' ? (p as Record<string, unknown>).prompt : p))
      .filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    prompt = texts.length > 0 ? texts.join(' ') : null;
  }
  if (prompt === null) return null;
  const pair = splitBracketNegative(prompt);
  return pair.prompt === null && pair.negativePrompt === null ? null : pair;
}

/**
 * Reads InvokeAI 1.x's `Dream` chunk, the command line that made the image: the prompt, quoted, then
 * options (`"a cat [blurry]" -s 50 -W 512 -H 512 -C 7.5 -A k_lms -S 42`). Null when it has no prompt.
 * Never throws.
 */
export function parseInvokeAIDream(text: string): PromptPair | null {
  if (text.length > MAX_PARAMETERS_CHARS) return null;
  const line = text.trim();
  let prompt: string;
  if (line.startsWith('"')) {
    // The closing quote is the last one before the options; the prompt itself may hold quotes.
    const options = line.search(/"\s+-[A-Za-z]/);
    const close = options !== -1 ? options : line.lastIndexOf('"');
    prompt = close > 0 ? line.slice(1, close) : line.slice(1);
  } else {
    // Unquoted: the prompt runs to the first option.
    const options = line.search(/(?:^|\s)-[A-Za-z]\b/);
    prompt = options === -1 ? line : line.slice(0, options);
  }
  const pair = splitBracketNegative(prompt.replace(/\\"/g, '"'));
  return pair.prompt === null && pair.negativePrompt === null ? null : pair;
}
