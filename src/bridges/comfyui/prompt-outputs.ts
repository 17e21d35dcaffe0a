// What the bridge does with one finished ComfyUI prompt: fetch each node's output images, hand them to
// the shared scoring pipeline as one batch (admitted through the same queue as HTTP requests), then the
// ComfyUI side of the answer: output records with ranks, verdict feedback, quarantine, regeneration.
import { randomUUID } from 'node:crypto';
import { isAgiqaError } from '../../errors/index.js';
import type { ScoringPipeline, PipelineImage } from '../../pipeline/index.js';
import { regenerationBudget, type Verdict } from '../../policy/index.js';
import { extractComfyPrompts } from '../../prompts/index.js';
import type { ScoreResult } from '../../scoring/index.js';
import type { Store } from '../../store/index.js';
import { verdictPush, type Feedback } from './feedback.js';
import { isTransient, type ComfyHttp } from './http-client.js';
import type { Limiter } from './limiter.js';
import type { BridgeLogger } from './logger.js';
import { outputImages, type HistoryEntry, type OutputImage } from './protocol.js';
import { quarantineFile } from './quarantine.js';
import { regenerationExtraData, reseedGraph } from './regeneration.js';

export interface PromptOutputsContext {
  instance: string;
  clientId: string;
  http: ComfyHttp;
  pipeline: ScoringPipeline;
  store: Store;
  types: ReadonlySet<string>;
  fetches: Limiter;
  feedback: Feedback | null;
  logger: BridgeLogger;
  regenerate: boolean;
  quarantineDir: string | undefined;
  random: () => number;
  stats: { scored: number; failed: number; regenerated: number };
}

interface BatchContext {
  prompt: string | null;
  negativePrompt: string | null;
  parentId: number | null;
}

/** A failure that may pass (ComfyUI down, queue full, locked database): the prompt is retried later. */
export class TransientFailure extends Error {}

function pick(image: OutputImage): { filename: string; subfolder: string; type: string } {
  return { filename: image.filename, subfolder: image.subfolder, type: image.type };
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class PromptOutputs {
  constructor(private readonly context: PromptOutputsContext) {}

  /** Scores every output of a finished prompt, marks it handled, and regenerates it when all were rejected. */
  async handle(promptId: string, entry: HistoryEntry): Promise<void> {
    const { instance, store } = this.context;
    const records = store.comfyui;
    const status = entry.status?.status_str ?? 'success';
    if (status !== 'success') this.logWorkflowError(promptId, entry);
    const prompts = extractComfyPrompts(entry.prompt[2]);
    const lineage = await records.lineage(instance, promptId);
    const images = outputImages(entry, this.context.types);
    const byNode = new Map<string, OutputImage[]>();
    for (const image of images) byNode.set(image.node, [...(byNode.get(image.node) ?? []), image]);
    let transient = false;
    let accepted = false;
    let firstRejected: number | null = null;
    const results = await Promise.allSettled(
      [...byNode].map(([node, batch]) => this.handleBatch(promptId, node, batch, { prompt: prompts.positive, negativePrompt: prompts.negative, parentId: lineage?.parentGenerationId ?? null })),
    );
    for (const result of results) {
      if (result.status === 'rejected') {
        if (!(result.reason instanceof TransientFailure)) throw result.reason;
        transient = true;
        continue;
      }
      accepted ||= result.value.accepted;
      firstRejected ??= result.value.firstRejected;
    }
    if (transient) throw new Error('some images could not be fetched or scored now');
    await records.markPromptHandled(instance, promptId, status);
    if (this.context.regenerate && status === 'success' && images.length > 0 && !accepted && firstRejected !== null) {
      await this.regenerate(promptId, entry, lineage?.rootPromptId ?? promptId, firstRejected);
    }
  }

  private logWorkflowError(promptId: string, entry: HistoryEntry): void {
    const messages = (entry.status?.messages ?? []) as [string, Record<string, unknown>][];
    const error = messages.find((m) => Array.isArray(m) && (m[0] === 'execution_error' || m[0] === 'execution_interrupted'));
    // An interruption is the user's own doing: worth a line, not a warning.
    this.context.logger[error?.[0] === 'execution_interrupted' ? 'info' : 'warn'](
      {
        comfyui: this.context.instance,
        promptId,
        status: entry.status?.status_str,
        event: error?.[0],
        node: error?.[1]?.node_id,
        nodeType: error?.[1]?.node_type,
        exception: error?.[1]?.exception_message,
      },
      'a ComfyUI prompt ended without success; scoring the images it saved, if any',
    );
  }

  private async recordFailure(promptId: string, node: string, image: OutputImage, error: unknown): Promise<void> {
    const code = isAgiqaError(error) ? error.code : 'AGQ_ERR_SERVER_INTERNAL';
    this.context.stats.failed += 1;
    this.context.logger.warn(
      { comfyui: this.context.instance, promptId, node, filename: image.filename, subfolder: image.subfolder, type: image.type, code, err: message(error) },
      'an output image could not be scored; the others go on',
    );
    await this.context.store.comfyui.recordOutput({ instance: this.context.instance, promptId, node, ...pick(image), batchIndex: image.batchIndex, generationId: null, scoreId: null, errorCode: code });
  }

  /** One node's images: fetched, scored and ranked as one batch through the pipeline, then recorded and fed back. */
  private async handleBatch(promptId: string, node: string, images: OutputImage[], batch: BatchContext): Promise<{ accepted: boolean; firstRejected: number | null }> {
    const { instance, store, pipeline } = this.context;
    const records = store.comfyui;
    const fresh: OutputImage[] = [];
    let accepted = false;
    for (const image of images) {
      const existing = await records.findOutput(instance, image);
      // A cached resubmission repeats the old file names: that file is already scored.
      if (existing === null) fresh.push(image);
      else if (existing.scoreId !== null) accepted ||= (await this.latestVerdictAccepts(existing.generationId)) ?? false;
    }
    if (fresh.length === 0) return { accepted, firstRejected: null };
    fresh.sort((a, b) => a.batchIndex - b.batchIndex);
    // The same queue as HTTP requests: a burst of outputs waits its turn instead of overrunning the workers.
    const release = await pipeline.admitWhenFree(fresh.length);
    let transient = false;
    const fetched: { image: OutputImage; input: PipelineImage }[] = [];
    try {
      await Promise.all(
        fresh.map(async (image) => {
          try {
            const bytes = await this.context.fetches.run(() => this.context.http.view(image, { promptId, node: image.node }));
            fetched.push({
              image,
              input: {
                image: bytes,
                name: image.subfolder === '' ? image.filename : `${image.subfolder}/${image.filename}`,
                fileRef: `${instance}/view?${new URLSearchParams(pick(image)).toString()}`,
                external: { promptId, node, filename: image.filename },
              },
            });
          } catch (error) {
            if (isTransient(error)) transient = true;
            else await this.recordFailure(promptId, node, image, error);
          }
        }),
      );
    } catch (error) {
      release();
      throw error;
    }
    fetched.sort((a, b) => a.image.batchIndex - b.image.batchIndex);
    // No prompt in the graph: the scorer falls back to the prompt embedded in the PNG, and that is stored.
    const items = await pipeline.scoreBatch(
      fetched.map((f) => f.input),
      { source: 'comfyui', prompt: batch.prompt ?? undefined, negativePrompt: batch.negativePrompt ?? undefined, parentId: batch.parentId },
      { deadline: false },
      release,
    );
    let firstRejected: number | null = null;
    for (const item of items) {
      const { image } = fetched[item.index]!;
      if (!item.ok) {
        if (isTransient(item.error)) transient = true;
        else await this.recordFailure(promptId, node, image, item.error);
        continue;
      }
      const { generationId, scoreId, result, verdict, rank } = item;
      const output = await records.recordOutput({ instance, promptId, node, ...pick(image), batchIndex: image.batchIndex, generationId, scoreId, errorCode: null, rank });
      this.context.stats.scored += 1;
      this.context.logger.debug({ comfyui: instance, promptId, node, filename: image.filename, generationId, mos: result.mos, verdict: verdict.verdict, rank }, 'scored a ComfyUI output');
      if (verdict.verdict === 'accept') accepted = true;
      else firstRejected ??= generationId;
      this.context.feedback?.push(verdictPush({ promptId, node, ...pick(image), batchIndex: image.batchIndex, rank, generationId }, result, verdict));
      if (verdict.verdict === 'reject') await this.quarantine(output.id, promptId, node, image, generationId, verdict, result);
    }
    if (transient) throw new TransientFailure();
    return { accepted, firstRejected };
  }

  private async latestVerdictAccepts(generationId: number | null): Promise<boolean | null> {
    if (generationId === null) return null;
    const view = await this.context.store.getGeneration(generationId);
    const verdict = view?.scores.at(-1)?.verdict;
    return verdict === undefined || verdict === null ? null : verdict.verdict === 'accept';
  }

  private async quarantine(outputId: number, promptId: string, node: string, image: OutputImage, generationId: number, verdict: Verdict, result: ScoreResult): Promise<void> {
    const { quarantineDir, instance, logger } = this.context;
    if (quarantineDir === undefined || image.type !== 'output') return;
    try {
      const move = await quarantineFile(quarantineDir, image, { comfyui: instance, promptId, node, generationId, mos: result.mos, reasons: verdict.reasons.map((r) => r.text) });
      if (move === null) {
        logger.warn({ comfyui: instance, promptId, filename: image.filename, outputDir: quarantineDir }, 'rejected output not found in the output folder; not quarantined');
        return;
      }
      await this.context.store.comfyui.setQuarantined(outputId, move.to);
      logger.info({ comfyui: instance, promptId, from: move.from, to: move.to }, 'quarantined a rejected output');
    } catch (error) {
      logger.error({ comfyui: instance, promptId, filename: image.filename, code: isAgiqaError(error) ? error.code : undefined, err: message(error) }, 'could not quarantine a rejected output');
    }
  }

  /** Re-queues a rejected prompt with new seeds when the budget of its original prompt allows. */
  private async regenerate(promptId: string, entry: HistoryEntry, rootPromptId: string, parentGenerationId: number): Promise<void> {
    const { instance, logger } = this.context;
    const records = this.context.store.comfyui;
    const max = this.context.pipeline.policy.maxRegenerations ?? 0;
    if (await records.lineageHasAccepted(instance, rootPromptId)) return;
    const sofar = await records.regenerationCount(instance, rootPromptId);
    const decision = regenerationBudget({ verdict: 'reject' }, sofar, max);
    if (decision.action !== 'regenerate') {
      logger.info({ comfyui: instance, promptId, rootPromptId, regenerations: sofar }, 'regeneration budget spent; keeping the best attempt');
      return;
    }
    const { graph, changes } = reseedGraph(entry.prompt[2], this.context.random);
    if (changes.length === 0) {
      logger.info({ comfyui: instance, promptId, code: 'AGQ_ERR_COMFYUI_NO_SEED' }, 'rejected prompt has no seed to change; not regenerated');
      return;
    }
    // The lineage is recorded before queuing, under a prompt_id we choose, so the new prompt's outputs
    // know their parent even when ComfyUI finishes it before the POST answer arrives.
    const newPromptId = randomUUID();
    const attempt = sofar + 1;
    await records.recordRegeneration(instance, { promptId: newPromptId, rootPromptId, parentPromptId: promptId, parentGenerationId, attempt });
    try {
      await this.context.http.queuePromptWithId(graph, this.context.clientId, newPromptId, regenerationExtraData(entry.prompt[3]));
    } catch (error) {
      await records.forgetRegeneration(instance, newPromptId);
      logger.warn({ comfyui: instance, promptId, rootPromptId, attempt, err: message(error) }, 'ComfyUI refused the regenerated prompt; not retried');
      return;
    }
    this.context.stats.regenerated += 1;
    logger.info({ comfyui: instance, promptId, newPromptId, rootPromptId, attempt, seeds: changes }, 'rejected: queued a regeneration with new seeds');
  }
}
