// Turns a ComfyUI UI-format workflow (`{ nodes, links }`, as saved by the editor and embedded as the PNG
// `workflow` chunk) into an API-format graph good enough for prompt recovery, for images that carry
// only the workflow. Widget names are not in the workflow, so only text that matters is mapped.
import { ENCODER_FIELDS, type ComfyGraph } from './comfy-graph.js';

interface WorkflowNode {
  id: number | string;
  type: string;
  mode?: number;
  inputs?: { name?: unknown; link?: unknown }[];
  widgets_values?: unknown;
}

// Modes of the editor: 2 = muted (never runs). 4 = bypassed still passes its inputs through, which
// the generic conditioning walk already does.
const MUTED = 2;

function linkTable(links: unknown): Map<number, [string, number]> {
  const table = new Map<number, [string, number]>();
  if (!Array.isArray(links)) return table;
  for (const link of links) {
    if (Array.isArray(link) && typeof link[0] === 'number' && typeof link[2] === 'number') {
      // [id, origin_id, origin_slot, target_id, target_slot, type]
      table.set(link[0], [String(link[1]), link[2]]);
    } else if (link !== null && typeof link === 'object') {
      const l = link as { id?: unknown; origin_id?: unknown; origin_slot?: unknown };
      if (typeof l.id === 'number' && typeof l.origin_slot === 'number') table.set(l.id, [String(l.origin_id), l.origin_slot]);
    }
  }
  return table;
}

function widgetInputs(node: WorkflowNode): Record<string, unknown> {
  const values = node.widgets_values;
  // Some custom nodes save their widgets by name.
  if (values !== null && typeof values === 'object' && !Array.isArray(values)) return { ...(values as Record<string, unknown>) };
  if (!Array.isArray(values)) return {};
  const strings = values.filter((v): v is string => typeof v === 'string');
  const fields = ENCODER_FIELDS[node.type];
  if (fields) {
    // Encoders list their text widgets in the same order as their text inputs (numbers sit between).
    return Object.fromEntries(fields.map((field, i) => [field, strings[i]]).filter(([, v]) => v !== undefined));
  }
  if (/^Primitive/.test(node.type)) return values.length > 0 ? { value: values[0] } : {};
  // A string node with one text widget (String Literal, ShowText…): its text is its value. The name
  // check keeps combo widgets of other nodes (a sampler's "fixed") out.
  return strings.length === 1 && /string|text|prompt|literal/i.test(node.type) ? { value: strings[0] } : {};
}

/** Converts a UI-format workflow to an API-format graph; null when `workflow` is not one. Never throws. */
export function comfyWorkflowToGraph(workflow: unknown): ComfyGraph | null {
  if (workflow === null || typeof workflow !== 'object') return null;
  const { nodes, links } = workflow as { nodes?: unknown; links?: unknown };
  if (!Array.isArray(nodes)) return null;
  const table = linkTable(links);
  const graph: ComfyGraph = {};
  for (const raw of nodes as WorkflowNode[]) {
    if (raw === null || typeof raw !== 'object' || typeof raw.type !== 'string') continue;
    if (raw.mode === MUTED || /^(Note|MarkdownNote)$/.test(raw.type)) continue;
    const inputs = widgetInputs(raw);
    for (const input of Array.isArray(raw.inputs) ? raw.inputs : []) {
      if (typeof input?.name !== 'string' || typeof input.link !== 'number') continue;
      const link = table.get(input.link);
      if (link) inputs[input.name] = link;
    }
    graph[String(raw.id)] = { class_type: raw.type, inputs };
  }
  return Object.keys(graph).length > 0 ? graph : null;
}
