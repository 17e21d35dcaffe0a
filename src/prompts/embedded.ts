// Decides which generation UI wrote an image's text metadata and recovers its prompt; the image module
// gathers the key/value texts (PNG chunks, EXIF), this module interprets them.
import { parseA1111Parameters } from './a1111.js';
import { extractComfyPrompts, isComfyGraph } from './comfy-graph.js';
import { parseInvokeAILegacyMetadata, parseInvokeAIMetadata } from './invokeai.js';

export type PromptSource = 'comfyui' | 'a1111' | 'invokeai';

export interface RecoveredPrompt {
  source: PromptSource | null;
  prompt: string | null;
  negativePrompt: string | null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Recovers the prompt from embedded text entries (PNG chunk keyword or EXIF field → text). ComfyUI's
 * `prompt` graph wins over A1111's `parameters`, then InvokeAI's keys. Never throws.
 */
export function recoverPrompt(text: Readonly<Record<string, string>>): RecoveredPrompt {
  const graphText = text.prompt;
  if (graphText !== undefined) {
    const graph = parseJson(graphText);
    if (isComfyGraph(graph)) {
      const found = extractComfyPrompts(graph);
      return { source: 'comfyui', prompt: found.positive, negativePrompt: found.negative };
    }
  }
  if (text.parameters !== undefined && text.parameters.trim() !== '') {
    const parsed = parseA1111Parameters(text.parameters);
    return { source: 'a1111', prompt: parsed.prompt === '' ? null : parsed.prompt, negativePrompt: parsed.negativePrompt };
  }
  const invoke =
    (text.invokeai_metadata !== undefined ? parseInvokeAIMetadata(text.invokeai_metadata) : null) ??
    (text['sd-metadata'] !== undefined ? parseInvokeAILegacyMetadata(text['sd-metadata']) : null);
  if (invoke) return { source: 'invokeai', prompt: invoke.prompt, negativePrompt: invoke.negativePrompt };
  // A ComfyUI image saved without its API graph (only the UI `workflow`): the source is known, the
  // prompt is not recoverable without the node definitions.
  if (text.workflow !== undefined && isComfyWorkflow(parseJson(text.workflow))) {
    return { source: 'comfyui', prompt: null, negativePrompt: null };
  }
  return { source: null, prompt: null, negativePrompt: null };
}

function isComfyWorkflow(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Array.isArray((value as { nodes?: unknown }).nodes);
}
