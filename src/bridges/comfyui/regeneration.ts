// Auto-regeneration: a rejected prompt's graph is queued again with new seeds under the bridge's own
// client id, within the policy's budget per original prompt, and stops once one attempt is accepted.
// This module holds the pure part (which inputs are seeds, rewriting them); the bridge does the I/O.

/** The seed inputs ComfyUI's core samplers read; other samplers keep their seed (see docs). */
export const SEED_INPUTS: Readonly<Record<string, string>> = {
  KSampler: 'seed',
  KSamplerAdvanced: 'noise_seed',
  RandomNoise: 'noise_seed',
};

// Widget names of primitive nodes a seed input may be linked to (PrimitiveInt, "Seed" nodes, …).
const PRIMITIVE_SEED_KEYS = ['seed', 'noise_seed', 'value', 'int', 'number'];

// ComfyUI accepts seeds up to 2^64-1; staying below 2^48 keeps them exact as JS numbers and in JSON.
const SEED_LIMIT = 2 ** 48;

export interface SeedChange {
  nodeId: string;
  input: string;
  from: number;
  to: number;
}

type Node = { class_type?: unknown; inputs?: Record<string, unknown> };

function linkTarget(value: unknown): string | null {
  return Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || typeof value[0] === 'number') ? String(value[0]) : null;
}

/**
 * Returns a copy of `graph` with every sampler seed replaced by a new random one, following a linked
 * seed to the primitive node that holds it. `changes` is empty when the graph has no seed to change
 * (re-queuing it would only hit ComfyUI's cache).
 */
export function reseedGraph(graph: Record<string, unknown>, random: () => number = Math.random): { graph: Record<string, unknown>; changes: SeedChange[] } {
  const copy = structuredClone(graph) as Record<string, Node>;
  const changes: SeedChange[] = [];
  const changed = new Set<string>();
  const newSeed = (from: number): number => {
    let seed = Math.floor(random() * SEED_LIMIT);
    if (seed === from) seed = (seed + 1) % SEED_LIMIT;
    return seed;
  };
  const setSeed = (nodeId: string, node: Node, input: string): void => {
    const key = `${nodeId}.${input}`;
    if (changed.has(key)) return;
    const from = node.inputs![input] as number;
    const to = newSeed(from);
    node.inputs![input] = to;
    changed.add(key);
    changes.push({ nodeId, input, from, to });
  };
  for (const id of Object.keys(copy).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const node = copy[id];
    const input = typeof node?.class_type === 'string' ? SEED_INPUTS[node.class_type] : undefined;
    if (node === undefined || input === undefined || typeof node.inputs !== 'object' || node.inputs === null) continue;
    const value = node.inputs[input];
    if (typeof value === 'number') {
      setSeed(id, node, input);
      continue;
    }
    const target = linkTarget(value);
    const source = target === null ? undefined : copy[target];
    if (target === null || source?.inputs === undefined || source.inputs === null) continue;
    const key = PRIMITIVE_SEED_KEYS.find((name) => typeof source.inputs![name] === 'number');
    if (key !== undefined) setSeed(target, source, key);
  }
  return { graph: copy, changes };
}

/** What a regeneration carries over from the original's extra_data: the UI workflow embedded in PNGs. */
export function regenerationExtraData(extraData: Record<string, unknown> | undefined): Record<string, unknown> {
  const pnginfo = extraData?.extra_pnginfo;
  return pnginfo === undefined ? {} : { extra_pnginfo: pnginfo };
}
