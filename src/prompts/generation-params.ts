// The sampling settings a generation UI embeds beside the prompt (seed, sampler, steps, cfg), so that
// the dashboard can say what changed between two attempts at a prompt. Read from A1111/Forge
// `parameters` and from ComfyUI's `prompt` graph (its sampler nodes' inputs); never throws.
import { parseA1111Parameters } from './a1111.js';
import { plainPromptText } from './plain-text.js';

export interface GenerationParams {
  seed?: number | undefined;
  sampler?: string | undefined;
  scheduler?: string | undefined;
  steps?: number | undefined;
  cfg?: number | undefined;
}

function numberOf(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : undefined;
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

function fromA1111(text: string): GenerationParams {
  const { settings } = parseA1111Parameters(text);
  return { seed: numberOf(settings.Seed), sampler: textOf(settings.Sampler), scheduler: textOf(settings['Schedule type']), steps: numberOf(settings.Steps), cfg: numberOf(settings['CFG scale']) };
}

function fromComfyGraph(text: string): GenerationParams {
  let graph: unknown;
  try {
    graph = JSON.parse(text);
  } catch {
    return {};
  }
  if (graph === null || typeof graph !== 'object') return {};
  // The first sampler in node-id order: a graph with a refiner pass has several, the first made the image's content.
  const nodes = Object.entries(graph as Record<string, { class_type?: unknown; inputs?: Record<string, unknown> }>).sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b));
  for (const [, node] of nodes) {
    const inputs = node?.inputs;
    if (typeof node?.class_type !== 'string' || !/sampler/i.test(node.class_type) || inputs === undefined || inputs === null) continue;
    // Linked inputs are [nodeId, slot] pairs: a value from another node, not a literal setting.
    const seed = numberOf(inputs.seed ?? inputs.noise_seed);
    const params: GenerationParams = { seed, sampler: textOf(inputs.sampler_name), scheduler: textOf(inputs.scheduler), steps: numberOf(inputs.steps), cfg: numberOf(inputs.cfg) };
    if (Object.values(params).some((value) => value !== undefined)) return params;
  }
  return {};
}

/** The sampling settings found in an image's text entries (PNG chunk keyword → text), or `{}`. */
export function generationParams(text: Readonly<Record<string, string>>): GenerationParams {
  const found = typeof text.prompt === 'string' ? fromComfyGraph(text.prompt) : typeof text.parameters === 'string' ? fromA1111(text.parameters) : {};
  return Object.fromEntries(Object.entries(found).filter(([, value]) => value !== undefined)) as GenerationParams;
}

/**
 * The key that groups attempts at one prompt: its plain text (weights, brackets and network tags
 * gone, via plainPromptText), lower-cased, whitespace and commas collapsed. '' for no prompt.
 */
export function promptKey(prompt: string | null | undefined): string {
  if (prompt === null || prompt === undefined) return '';
  return plainPromptText(prompt)
    .toLowerCase()
    .replace(/[\s,]+/g, ' ')
    .trim()
    .slice(0, 2_000);
}
