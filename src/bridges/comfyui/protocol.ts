// ComfyUI's wire format as the bridge consumes it (ComfyUI 0.3.x, checked against recorded traffic):
// zod schemas of the WebSocket text frames, the /history entries and the POST /prompt answer, and a
// parser of the binary frames. Schemas are loose (passthrough): ComfyUI adds fields between versions.
import { z } from 'zod';

const promptId = z.string().min(1);

export const statusFrameSchema = z.object({
  type: z.literal('status'),
  data: z.object({
    status: z.object({ exec_info: z.object({ queue_remaining: z.number().int() }).passthrough() }).passthrough(),
    /** Present only on the first frame after connecting: the client id the server assigned. */
    sid: z.string().optional(),
  }),
});

export const executionStartFrameSchema = z.object({
  type: z.literal('execution_start'),
  data: z.object({ prompt_id: promptId, timestamp: z.number().optional() }).passthrough(),
});

export const executionSuccessFrameSchema = z.object({
  type: z.literal('execution_success'),
  data: z.object({ prompt_id: promptId, timestamp: z.number().optional() }).passthrough(),
});

export const executionErrorFrameSchema = z.object({
  type: z.literal('execution_error'),
  data: z
    .object({
      prompt_id: promptId,
      node_id: z.string().optional(),
      node_type: z.string().optional(),
      exception_message: z.string().optional(),
      exception_type: z.string().optional(),
    })
    .passthrough(),
});

export const executionInterruptedFrameSchema = z.object({
  type: z.literal('execution_interrupted'),
  data: z.object({ prompt_id: promptId, node_id: z.string().optional(), node_type: z.string().optional() }).passthrough(),
});

/** `node: null` ends a prompt; after a reconnect ComfyUI sends `executing` WITHOUT prompt_id. */
export const executingFrameSchema = z.object({
  type: z.literal('executing'),
  data: z.object({ node: z.string().nullable(), display_node: z.string().optional(), prompt_id: promptId.optional() }).passthrough(),
});

export const imageRefSchema = z.object({ filename: z.string().min(1), subfolder: z.string(), type: z.string().min(1) }).passthrough();
export type ImageRef = z.infer<typeof imageRefSchema>;

export const executedFrameSchema = z.object({
  type: z.literal('executed'),
  data: z
    .object({ node: z.string(), display_node: z.string().optional(), prompt_id: promptId, output: z.record(z.string(), z.unknown()).nullable() })
    .passthrough(),
});

/** The frames the bridge acts on; every other type (progress, progress_state, execution_cached…) is ignored. */
export const consumedFrameSchema = z.discriminatedUnion('type', [
  statusFrameSchema,
  executionStartFrameSchema,
  executionSuccessFrameSchema,
  executionErrorFrameSchema,
  executionInterruptedFrameSchema,
  executingFrameSchema,
  executedFrameSchema,
]);
export type ConsumedFrame = z.infer<typeof consumedFrameSchema>;
export const CONSUMED_FRAME_TYPES: ReadonlySet<string> = new Set(consumedFrameSchema.options.map((option) => option.shape.type.value));

export type TextFrame = { kind: 'consumed'; frame: ConsumedFrame } | { kind: 'ignored'; type: string } | { kind: 'invalid'; type: string | null; problem: string };

/**
 * Parses one text frame. Never throws: unknown types are `ignored`, and a known type with a shape we do
 * not understand is `invalid` with the reason (the watcher logs it and falls back to /history).
 */
export function parseTextFrame(text: string): TextFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'invalid', type: null, problem: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const type = typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' ? (value as { type: string }).type : null;
  if (type === null) return { kind: 'invalid', type: null, problem: 'no "type" string' };
  if (!CONSUMED_FRAME_TYPES.has(type)) return { kind: 'ignored', type };
  const parsed = consumedFrameSchema.safeParse(value);
  if (!parsed.success) return { kind: 'invalid', type, problem: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ') };
  return { kind: 'consumed', frame: parsed.data };
}

// Binary frames: u32 big-endian event type, then the payload (server.py `encode_bytes`).
export const BINARY_PREVIEW_IMAGE = 1;
export const BINARY_TEXT = 3;
export const BINARY_PREVIEW_IMAGE_WITH_METADATA = 4;

export type BinaryFrame =
  | { kind: 'preview'; format: 'jpeg' | 'png' | 'unknown'; image: Uint8Array }
  | { kind: 'preview-with-metadata'; metadata: Record<string, unknown> | null; image: Uint8Array }
  | { kind: 'text'; nodeId: string; text: string }
  | { kind: 'unknown'; eventType: number }
  | { kind: 'invalid'; problem: string };

/** Parses a binary frame (previews, SaveImageWebsocket images, progress text). Never throws. */
export function parseBinaryFrame(bytes: Uint8Array): BinaryFrame {
  if (bytes.length < 4) return { kind: 'invalid', problem: `${bytes.length} bytes, shorter than the 4-byte event type` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eventType = view.getUint32(0);
  if (eventType === BINARY_PREVIEW_IMAGE) {
    if (bytes.length < 8) return { kind: 'invalid', problem: 'preview frame without its image format' };
    const format = view.getUint32(4);
    return { kind: 'preview', format: format === 1 ? 'jpeg' : format === 2 ? 'png' : 'unknown', image: bytes.subarray(8) };
  }
  if (eventType === BINARY_PREVIEW_IMAGE_WITH_METADATA) {
    if (bytes.length < 8) return { kind: 'invalid', problem: 'preview frame without its metadata length' };
    const length = view.getUint32(4);
    if (8 + length > bytes.length) return { kind: 'invalid', problem: `metadata length ${length} runs past the frame (${bytes.length} bytes)` };
    let metadata: Record<string, unknown> | null = null;
    try {
      metadata = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))) as Record<string, unknown>;
    } catch {
      metadata = null;
    }
    return { kind: 'preview-with-metadata', metadata, image: bytes.subarray(8 + length) };
  }
  if (eventType === BINARY_TEXT) {
    if (bytes.length < 8) return { kind: 'invalid', problem: 'text frame without its node id length' };
    const length = view.getUint32(4);
    if (8 + length > bytes.length) return { kind: 'invalid', problem: `node id length ${length} runs past the frame` };
    const decoder = new TextDecoder();
    return { kind: 'text', nodeId: decoder.decode(bytes.subarray(8, 8 + length)), text: decoder.decode(bytes.subarray(8 + length)) };
  }
  return { kind: 'unknown', eventType };
}

// ── HTTP ─────────────────────────────────────────────────────────────────────────────────────────

export const historyEntrySchema = z
  .object({
    /** [number, prompt_id, graph, extra_data, outputs_to_execute] */
    prompt: z.tuple([z.number(), promptId, z.record(z.string(), z.unknown()), z.record(z.string(), z.unknown()).optional(), z.array(z.unknown()).optional()]).rest(z.unknown()),
    outputs: z.record(z.string(), z.record(z.string(), z.unknown())),
    status: z
      .object({ status_str: z.string(), completed: z.boolean(), messages: z.array(z.unknown()).optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** `GET /history` and `GET /history/{id}`: prompt_id → entry (`{}` for an unknown id). */
export const historySchema = z.record(z.string(), z.unknown());

export const postPromptOkSchema = z.object({ prompt_id: promptId, number: z.number(), node_errors: z.record(z.string(), z.unknown()).optional() }).passthrough();

/** One image a history entry lists, with the node that produced it and its position in that node's list. */
export interface OutputImage extends ImageRef {
  node: string;
  batchIndex: number;
}

const IMAGE_NAME = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;

/**
 * The images of a history entry, in node order, restricted to `types` (e.g. output, temp). Lists that are
 * not images (text, latents, gifs of video nodes) and malformed refs are skipped.
 */
export function outputImages(entry: HistoryEntry, types: ReadonlySet<string>): OutputImage[] {
  const images: OutputImage[] = [];
  const nodes = Object.keys(entry.outputs).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const node of nodes) {
    const list = entry.outputs[node]?.images;
    if (!Array.isArray(list)) continue;
    list.forEach((item, batchIndex) => {
      const ref = imageRefSchema.safeParse(item);
      if (!ref.success || !types.has(ref.data.type) || !IMAGE_NAME.test(ref.data.filename)) return;
      images.push({ filename: ref.data.filename, subfolder: ref.data.subfolder, type: ref.data.type, node, batchIndex });
    });
  }
  return images;
}
