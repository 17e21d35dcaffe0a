// Rerank: the images one node produced for one prompt form a batch; the scoring pipeline judges them
// together (the policy's top-k and keep-at-least rules, the same rank rule as POST /v1/rank), the bridge
// stores their order, and the top-k is served through `GET /v1/comfyui/prompts/:promptId/ranking`.
import { z } from 'zod';
import { verdictSchema, type Policy } from '../../policy/index.js';
import type { Store } from '../../store/index.js';

const rankedOutputSchema = z
  .object({
    outputId: z.number().int(),
    node: z.string(),
    batchIndex: z.number().int(),
    filename: z.string(),
    subfolder: z.string(),
    type: z.string(),
    rank: z.number().int().nullable().describe('1 = best in its batch (a batch of one is rank 1); null when the image could not be scored'),
    generationId: z.number().int().nullable(),
    mos: z.number().nullable(),
    verdict: verdictSchema.nullable(),
    errorCode: z.string().nullable().describe('why the image could not be scored (then mos and verdict are null)'),
    quarantinedTo: z.string().nullable(),
  })
  .strict();

/** The body of GET /v1/comfyui/prompts/:promptId/ranking (the server's OpenAPI document uses it). */
export const promptRankingSchema = z
  .object({
    promptId: z.string(),
    batches: z.array(
      z
        .object({
          instance: z.string().describe('the ComfyUI address'),
          node: z.string(),
          // Every output, best first; images that could not be scored come last with their error code.
          order: z.array(rankedOutputSchema),
          // The best `topK` accepted outputs (all accepted ones when no top-k is configured).
          topK: z.array(rankedOutputSchema),
        })
        .strict(),
    ),
  })
  .strict();

export type PromptRanking = z.output<typeof promptRankingSchema>;

/** The stored ranking of a prompt's outputs, grouped by instance and node; null when the prompt is unknown. */
export async function promptRanking(store: Store, promptId: string, policy: Pick<Policy, 'topK'>, topK?: number): Promise<PromptRanking | null> {
  const outputs = await store.comfyui.ranking(promptId);
  if (outputs.length === 0) return null;
  const limit = topK ?? policy.topK ?? Number.POSITIVE_INFINITY;
  const groups = new Map<string, PromptRanking['batches'][number]>();
  for (const { instance, ...output } of outputs) {
    const key = `${instance}\u0000${output.node}`;
    let batch = groups.get(key);
    if (batch === undefined) {
      batch = { instance, node: output.node, order: [], topK: [] };
      groups.set(key, batch);
    }
    batch.order.push(output);
  }
  for (const batch of groups.values()) {
    // The stored rank orders a batch; batches of one (no rank) fall back to MOS so top-k still reads right.
    batch.order.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || (b.mos ?? -1) - (a.mos ?? -1) || a.batchIndex - b.batchIndex);
    batch.topK = batch.order.filter((output) => output.verdict?.verdict === 'accept').slice(0, limit);
  }
  return { promptId, batches: [...groups.values()] };
}
