// Decides which generation UI wrote an image's text metadata and recovers its prompt; the image module
// gathers the key/value texts (PNG chunks, EXIF), this module interprets them.
import { parseA1111Parameters } from './a1111.js';
import { extractComfyPrompts, isComfyGraph } from './comfy-graph.js';
import { comfyWorkflowToGraph } from './comfy-workflow.js';
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
  // A ComfyUI image saved with only the UI `workflow`: recovered from its widgets, less exactly.
  if (text.workflow !== undefined) {
    const workflow = parseJson(text.workflow);
    if (workflow !== null && typeof workflow === 'object' && Array.isArray((workflow as { nodes?: unknown }).nodes)) {
      const found = extractComfyPrompts(comfyWorkflowToGraph(workflow));
      return { source: 'comfyui', prompt: found.positive, negativePrompt: found.negative };
    }
  }
  return { source: null, prompt: null, negativePrompt: null };
}
