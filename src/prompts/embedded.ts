// Decides which generation UI wrote an image's text metadata and recovers its prompt; the image module
// gathers the key/value texts (PNG chunks, EXIF), this module interprets them.
import { parseA1111Parameters } from './a1111.js';
import { parseBoundedJson } from './bounded-json.js';
import { extractComfyPrompts, isComfyGraph } from './comfy-graph.js';
import { comfyWorkflowToGraph } from './comfy-workflow.js';
import { parseInvokeAIDream, parseInvokeAILegacyMetadata, parseInvokeAIMetadata } from './invokeai.js';

export type PromptSource = 'comfyui' | 'a1111' | 'invokeai';

export interface RecoveredPrompt {
  source: PromptSource | null;
  prompt: string | null;
  negativePrompt: string | null;
  /** Why the embedded prompt was not read although the image has one (a reader's budget ran out); else null. */
  problem: string | null;
}

/** The text entries (PNG chunk keywords, EXIF fields) recoverPrompt reads; image input keeps only these inflated. */
export const PROMPT_TEXT_KEYS: ReadonlySet<string> = new Set([
  'prompt',
  'workflow',
  'parameters',
  'invokeai_metadata',
  'sd-metadata',
  'Dream',
]);


/**
 * Recovers the prompt from embedded text entries (PNG chunk keyword or EXIF field → text). ComfyUI's
 * `prompt` graph wins over A1111's `parameters`, then InvokeAI's keys (3.x, then 1.x/2.x JSON, then
 * 1.x's `Dream` line). Each reader has a work budget; over it the prompt is null with a `problem`.
 * Never throws.
 */
export function recoverPrompt(text: Readonly<Record<string, string>>): RecoveredPrompt {
  let problem: string | null = null;
  const graphText = text.prompt;
  if (graphText !== undefined) {
    const parsed = parseBoundedJson(graphText, 'ComfyUI prompt');
    problem ??= parsed.ok ? null : parsed.problem;
    const graph = parsed.ok ? parsed.value : undefined;
    if (isComfyGraph(graph)) {
      const found = extractComfyPrompts(graph);
      return { source: 'comfyui', prompt: found.positive, negativePrompt: found.negative, problem: found.problem };
    }
  }
  if (text.parameters !== undefined && text.parameters.trim() !== '') {
    const parsed = parseA1111Parameters(text.parameters);
    return {
      source: 'a1111',
      prompt: parsed.prompt === '' ? null : parsed.prompt,
      negativePrompt: parsed.negativePrompt,
      problem: parsed.problem,
    };
  }
  const invoke =
    (text.invokeai_metadata !== undefined ? parseInvokeAIMetadata(text.invokeai_metadata) : null) ??
    (text['sd-metadata'] !== undefined ? parseInvokeAILegacyMetadata(text['sd-metadata']) : null) ??
    (text.Dream !== undefined ? parseInvokeAIDream(text.Dream) : null);
  if (invoke) return { source: 'invokeai', prompt: invoke.prompt, negativePrompt: invoke.negativePrompt, problem: null };
  // A ComfyUI image saved with only the UI `workflow`: recovered from its widgets, less exactly.
  if (text.workflow !== undefined) {
    const parsed = parseBoundedJson(text.workflow, 'ComfyUI workflow');
    problem ??= parsed.ok ? null : parsed.problem;
    const workflow = parsed.ok ? parsed.value : undefined;
    if (workflow !== null && typeof workflow === 'object' && Array.isArray((workflow as { nodes?: unknown }).nodes)) {
      const found = extractComfyPrompts(comfyWorkflowToGraph(workflow));
      return { source: 'comfyui', prompt: found.positive, negativePrompt: found.negative, problem: found.problem };
    }
  }
  return { source: null, prompt: null, negativePrompt: null, problem };
}
