// The multipart fields that describe raw pixel frames: `width`, `height`, `channels` (shared by every
// frame of the request: a UI's batch has one size) and `text`, the metadata a PNG would have carried
// (e.g. {"prompt": "<ComfyUI API graph>"}) from which the prompt is recovered as from a file.
import { z } from 'zod';
import { agiqaError, zodIssues } from '../errors/index.js';
import type { RawPixelsLayout } from '../pipeline/index.js';

export interface RawFields {
  layout: RawPixelsLayout;
  text: Record<string, string> | undefined;
}

const RAW_FIELDS = ['width', 'height', 'channels', 'text'] as const;
const dimension = z.string().regex(/^\d{1,6}$/, 'expected a positive whole number').transform(Number).pipe(z.number().int().positive());

const rawFieldsSchema = z
  .object({
    width: dimension,
    height: dimension,
    channels: z.enum(['1', '3', '4'], { message: 'expected 1 (grey), 3 (RGB) or 4 (RGBA)' }).transform(Number),
    text: z
      .string()
      .max(2 * 1024 * 1024)
      .optional()
      .transform((value, ctx) => {
        if (value === undefined) return undefined;
        try {
          return JSON.parse(value) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected a JSON object of text entries, e.g. {"prompt": "…"}' });
          return z.NEVER;
        }
      })
      .pipe(z.record(z.string().max(200), z.string()).optional()),
  })
  .strict();

/**
 * Takes the raw-frame fields out of `fields` (so the metadata schema never sees them) and validates them.
 * Returns null when the request has none. Throws AGQ_ERR_INVALID_INPUT listing every problem.
 */
export function readRawLayout(fields: Map<string, string>): RawFields | null {
  const candidate: Record<string, string> = {};
  for (const name of RAW_FIELDS) {
    const value = fields.get(name);
    if (value === undefined) continue;
    candidate[name] = value;
    fields.delete(name);
  }
  if (Object.keys(candidate).length === 0) return null;
  const parsed = rawFieldsSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'multipart body', issues }, { details: { issues } });
  }
  const { width, height, channels, text } = parsed.data;
  return { layout: { width, height, channels: channels as 1 | 3 | 4 }, text };
}
