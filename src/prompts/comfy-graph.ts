// Recovers the positive/negative prompt text from a ComfyUI API-format graph (`{ id: { class_type, inputs } }`),
// as embedded in SaveImage PNGs and as submitted to POST /prompt; used by image input and the ComfyUI bridge.
// The walk is linear in the graph: each node's text is resolved once (memoised), and a hard budget of
// node visits and assembled characters ends a crafted graph early with a reason instead of a hang.
import { MAX_GRAPH_NODE_VISITS, MAX_GRAPH_TEXT_CHARS, PromptBudgetExceeded } from './limits.js';

/** One node of a ComfyUI API-format graph; an input is a literal or a link `[nodeId, outputIndex]`. */
export interface ComfyNode {
  class_type: string;
  inputs: Record<string, unknown>;
}

/** A ComfyUI API-format graph ("prompt"), keyed by node id. */
export type ComfyGraph = Record<string, ComfyNode>;

export type PromptRole = 'positive' | 'negative';

export interface ComfyPromptPart {
  nodeId: string;
  role: PromptRole;
  text: string;
}

export interface ComfyPrompts {
  /** Distinct positive texts joined with " | ", or null when none was found. */
  positive: string | null;
  /** Distinct negative texts joined with " | ", or null when none was found. */
  negative: string | null;
  /** Every distinct (role, text) found, in sampler order, with the encoder node it came from. */
  parts: ComfyPromptPart[];
  /** Why no prompt was read although the graph has one (the walk ran over its budget); null otherwise. */
  problem: string | null;
  /** Graph nodes the walk entered: the work it did, at most a small multiple of nodes + links. */
  nodesVisited: number;
}

/** Budgets of one walk; tests lower them to reach the limits with small graphs. */
export interface ComfyWalkLimits {
  maxNodeVisits: number;
  maxTextChars: number;
}

const DEFAULT_WALK_LIMITS: Readonly<ComfyWalkLimits> = Object.freeze({
  maxNodeVisits: MAX_GRAPH_NODE_VISITS,
  maxTextChars: MAX_GRAPH_TEXT_CHARS,
});

/** Separator between several distinct prompts of one graph (area composition, refiner passes). */
export const PROMPT_JOINER = ' | ';

const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced']);

// Text fields of the encoders we know; any other `*TextEncode*` node falls back to its string inputs.
export const ENCODER_FIELDS: Readonly<Record<string, readonly string[]>> = {
  CLIPTextEncode: ['text'],
  CLIPTextEncodeSDXL: ['text_g', 'text_l'],
  CLIPTextEncodeSDXLRefiner: ['text'],
  CLIPTextEncodeFlux: ['clip_l', 't5xxl'],
  CLIPTextEncodeSD3: ['clip_l', 'clip_g', 't5xxl'],
  CLIPTextEncodeHunyuanDiT: ['bert', 'mt5xl'],
  CLIPTextEncodePixArtAlpha: ['text'],
  CLIPTextEncodeLumina2: ['user_prompt'],
  TextEncodeHunyuanVideo_ImageToVideo: ['prompt'],
};

// Literal string inputs of encoders/concat nodes that are options, not text.
const OPTION_KEYS = new Set([
  'empty_padding',
  'system_prompt',
  'delimiter',
  'separator',
  'clean_whitespace',
  'linebreak_addition',
  'mode',
  'token_normalization',
  'weight_interpretation',
]);

// Deep enough for real graphs (chains of conditioning nodes rarely exceed ten), shallow enough that the
// recursion never nears the stack limit.
const MAX_DEPTH = 64;
// Marks a node whose text is being resolved: reaching it again is a cycle, which yields no text.
const IN_PROGRESS = Symbol('in progress');

type Link = [string, number];

function asLink(value: unknown): Link | null {
  if (Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || typeof value[0] === 'number')) {
    const index = value[1];
    if (typeof index === 'number' && Number.isInteger(index)) return [String(value[0]), index];
  }
  return null;
}

function isEncoder(classType: string): boolean {
  return classType in ENCODER_FIELDS || /TextEncode/i.test(classType);
}

// Inputs that carry CONDITIONING in core and common custom nodes; the API format has no types, so names decide.
function isConditioningInput(name: string): boolean {
  return /cond|^positive$|^negative$/i.test(name);
}

/** Returns true when `value` looks like an API-format graph: an object of `{ class_type, inputs }` nodes. */
export function isComfyGraph(value: unknown): value is ComfyGraph {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const nodes = Object.values(value as Record<string, unknown>);
  return (
    nodes.length > 0 &&
    nodes.some(
      (n) =>
        n !== null &&
        typeof n === 'object' &&
        typeof (n as ComfyNode).class_type === 'string' &&
        typeof (n as ComfyNode).inputs === 'object',
    )
  );
}

function compareIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Finds the prompt text that fed the samplers of `graph`. Walks from each sampler (or guider) through
 * conditioning nodes to the text encoders, and resolves linked text through primitive/string/concat nodes.
 * Never throws: a malformed graph yields no prompts; a graph that needs more than `limits` allow yields
 * no prompts and a `problem` saying which budget ran out.
 */
export function extractComfyPrompts(graph: unknown, limits: ComfyWalkLimits = DEFAULT_WALK_LIMITS): ComfyPrompts {
  const result: ComfyPrompts = { positive: null, negative: null, parts: [], problem: null, nodesVisited: 0 };
  if (!isComfyGraph(graph)) return result;
  try {
    walkGraph(graph, result, limits);
  } catch (error) {
    if (!(error instanceof PromptBudgetExceeded)) throw error;
    result.parts = [];
    result.problem = error.reason;
  }
  const join = (role: PromptRole): string | null => {
    const texts = result.parts.filter((p) => p.role === role).map((p) => p.text);
    return texts.length > 0 ? texts.join(PROMPT_JOINER) : null;
  };
  result.positive = join('positive');
  result.negative = join('negative');
  return result;
}

function walkGraph(graph: ComfyGraph, result: ComfyPrompts, limits: ComfyWalkLimits): void {
  const nodes = graph;
  const node = (id: string): ComfyNode | null => {
    const n = nodes[id];
    return n && typeof n === 'object' && typeof n.class_type === 'string' && n.inputs && typeof n.inputs === 'object'
      ? n
      : null;
  };
  const ids = Object.keys(nodes).sort(compareIds);
  const seenParts = new Set<string>();
  const visitedConditioning = new Set<string>();
  const visitedGuiders = new Set<string>();
  // Node id → its resolved text. A node's text does not depend on who asks, so it is resolved once:
  // without this a diamond of shared inputs is walked once per path, 2^depth times.
  const textOf = new Map<string, string | null | typeof IN_PROGRESS>();
  let textChars = 0;

  const visit = (): void => {
    result.nodesVisited++;
    if (result.nodesVisited > limits.maxNodeVisits) {
      throw new PromptBudgetExceeded(`the ComfyUI graph needs more than ${limits.maxNodeVisits} node visits to read`);
    }
  };
  const charge = (chars: number): void => {
    textChars += chars;
    if (textChars > limits.maxTextChars) {
      throw new PromptBudgetExceeded(`the ComfyUI graph's prompt text is longer than ${limits.maxTextChars} characters`);
    }
  };

  const addPart = (nodeId: string, role: PromptRole, text: string): void => {
    const trimmed = text.trim();
    if (trimmed === '') return;
    const key = `${role}\u0000${trimmed}`;
    if (seenParts.has(key)) return;
    charge(trimmed.length);
    seenParts.add(key);
    result.parts.push({ nodeId, role, text: trimmed });
  };

  // Resolves a text input: a literal string, or a link through primitive/string/concat nodes.
  const resolveText = (value: unknown, depth: number): string | null => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return null;
    const link = asLink(value);
    if (!link) return null;
    const known = textOf.get(link[0]);
    if (known === IN_PROGRESS) return null;
    if (known !== undefined) return known;
    if (depth > MAX_DEPTH) return null;
    const n = node(link[0]);
    if (!n) return null;
    visit();
    textOf.set(link[0], IN_PROGRESS);
    const text = textOfNode(n, depth + 1);
    textOf.set(link[0], text);
    return text;
  };

  const textOfNode = (n: ComfyNode, depth: number): string | null => {
    const entries = Object.entries(n.inputs);
    if (/concat|join|append|combine/i.test(n.class_type) && !/conditioning/i.test(n.class_type)) {
      const delimiterValue = n.inputs.delimiter ?? n.inputs.separator;
      const delimiter = typeof delimiterValue === 'string' ? delimiterValue : '';
      const pieces: string[] = [];
      for (const [key, value] of entries) {
        if (OPTION_KEYS.has(key)) continue;
        const text = resolveText(value, depth);
        if (text !== null && text !== '') pieces.push(text);
      }
      if (pieces.length === 0) return null;
      charge(pieces.reduce((sum, piece) => sum + piece.length, 0) + delimiter.length * (pieces.length - 1));
      return pieces.join(delimiter);
    }
    // A primitive/string/display node: prefer the conventional widget names, then the single string input.
    for (const key of ['value', 'text', 'string', 'String', 'Text', 'prompt', 'STRING']) {
      if (key in n.inputs) {
        const text = resolveText(n.inputs[key], depth);
        if (text !== null) return text;
      }
    }
    const strings = entries.filter(([key, value]) => typeof value === 'string' && !OPTION_KEYS.has(key));
    if (strings.length === 1) return strings[0]![1] as string;
    for (const [key, value] of entries) {
      if (/text|string|prompt/i.test(key) && asLink(value)) {
        const text = resolveText(value, depth);
        if (text !== null) return text;
      }
    }
    return null;
  };

  const encoderTexts = (n: ComfyNode): string[] => {
    const fields =
      ENCODER_FIELDS[n.class_type] ??
      Object.keys(n.inputs).filter((k) => !OPTION_KEYS.has(k) && !/^(clip|model|vae|image|clip_vision)/i.test(k));
    const texts: string[] = [];
    for (const field of fields) {
      const text = resolveText(n.inputs[field], 0);
      if (text !== null && text.trim() !== '' && !texts.includes(text.trim())) texts.push(text.trim());
    }
    return texts;
  };

  const followConditioning = (value: unknown, role: PromptRole, depth: number): void => {
    const link = asLink(value);
    if (!link || depth > MAX_DEPTH) return;
    const key = `${link[0]}:${link[1]}:${role}`;
    if (visitedConditioning.has(key)) return;
    visitedConditioning.add(key);
    const n = node(link[0]);
    if (!n) return;
    visit();
    if (isEncoder(n.class_type)) {
      for (const text of encoderTexts(n)) addPart(link[0], role, text);
      return;
    }
    // Zeroed conditioning carries no text (Flux/SD3 graphs use it as the "empty negative").
    if (n.class_type === 'ConditioningZeroOut') return;
    // Nodes that pass a (positive, negative) pair through (ControlNetApplyAdvanced, InstructPix2Pix…):
    // output 0 is the positive branch, output 1 the negative one.
    if (asLink(n.inputs.positive) && asLink(n.inputs.negative)) {
      followConditioning(link[1] === 1 ? n.inputs.negative : n.inputs.positive, role, depth + 1);
      return;
    }
    for (const [name, input] of Object.entries(n.inputs)) {
      if (isConditioningInput(name)) followConditioning(input, role, depth + 1);
    }
  };

  const followGuider = (value: unknown, depth: number): void => {
    const link = asLink(value);
    if (!link || depth > MAX_DEPTH || visitedGuiders.has(link[0])) return;
    visitedGuiders.add(link[0]);
    const n = node(link[0]);
    if (!n) return;
    visit();
    for (const [name, input] of Object.entries(n.inputs)) {
      if (name === 'guider') followGuider(input, depth + 1);
      else if (/negative/i.test(name)) followConditioning(input, 'negative', depth + 1);
      else if (isConditioningInput(name)) followConditioning(input, 'positive', depth + 1);
    }
  };

  const followSampler = (n: ComfyNode): void => {
    if ('guider' in n.inputs) followGuider(n.inputs.guider, 0);
    followConditioning(n.inputs.positive, 'positive', 0);
    followConditioning(n.inputs.negative, 'negative', 0);
  };

  let roots = ids.filter((id) => SAMPLERS.has(node(id)?.class_type ?? ''));
  if (roots.length === 0) {
    // Custom samplers/detailers: a node with a `positive` link whose output feeds no conditioning input.
    const feedsConditioning = new Set<string>();
    for (const id of ids) {
      for (const [name, input] of Object.entries(node(id)?.inputs ?? {})) {
        const link = asLink(input);
        if (link && isConditioningInput(name)) feedsConditioning.add(link[0]);
      }
    }
    roots = ids.filter((id) => asLink(node(id)?.inputs.positive) && !feedsConditioning.has(id));
  }
  for (const id of roots) followSampler(node(id)!);

  if (result.parts.length === 0) {
    // No sampler reached an encoder: any encoder's text is better than nothing; its role is unknown,
    // so it is reported as positive.
    for (const id of ids) {
      const n = node(id);
      if (n && isEncoder(n.class_type)) {
        visit();
        for (const text of encoderTexts(n)) addPart(id, 'positive', text);
      }
    }
  }
}
