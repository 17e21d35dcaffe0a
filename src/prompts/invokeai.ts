// Reads InvokeAI's embedded metadata: `invokeai_metadata` (3.x+, flat JSON with positive_prompt /
// negative_prompt) and the older `sd-metadata` (2.x, `image.prompt` as a string or [{prompt, weight}]).

export interface PromptPair {
  prompt: string | null;
  negativePrompt: string | null;
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
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

// InvokeAI 2.x wrote the negative prompt inline, in square brackets: "a cat [blurry, dog]".
function splitBracketNegative(prompt: string): PromptPair {
  const negatives: string[] = [];
  const positive = prompt.replace(/\[([^\]]*)\]/g, (_, inner: string) => {
    if (inner.trim() !== '') negatives.push(inner.trim());
    return '';
  });
  return {
    prompt: nonEmpty(positive.replace(/\s{2,}/g, ' ')),
    negativePrompt: negatives.length > 0 ? negatives.join(', ') : null,
  };
}

/** Reads the legacy `sd-metadata` JSON; null when it is not JSON or carries no prompt. Never throws. */
export function parseInvokeAILegacyMetadata(text: string): PromptPair | null {
  const meta = parseObject(text);
  const image = meta?.image;
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
