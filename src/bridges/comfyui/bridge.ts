// The watcher: sees every prompt a ComfyUI instance finishes, whoever queued it, and scores each output
// image once. Run events reach only the submitting socket, so the bridge reads /history on connect,
// after every reconnect and on every `status` broadcast; the persisted cursor (handled prompt ids) and
// the per-file output records make bridge and ComfyUI restarts neither rescore nor miss anything.
import { randomUUID } from 'node:crypto';
import { isAgiqaError } from '../../errors/index.js';
import { regenerationBudget, type Policy, type Verdict } from '../../policy/index.js';
import { extractComfyPrompts } from '../../prompts/index.js';
import type { ScoreResult, Scorer } from '../../scoring/index.js';
import type { StoredEvent, Store } from '../../store/index.js';
import { Feedback, verdictPush } from './feedback.js';
import { ComfyHttp, isTransient } from './http-client.js';
import { silentLogger, type BridgeLogger } from './logger.js';
import { outputImages, type ConsumedFrame, type HistoryEntry, type OutputImage } from './protocol.js';
import { quarantineFile } from './quarantine.js';
import { regenerationExtraData, reseedGraph } from './regeneration.js';
import { judgeBatch } from './rerank.js';
import { ComfySocket, type BackoffOptions } from './ws-client.js';

const MAX_CONCURRENT_CATCH_UPS = 2;
/** ComfyUI keeps at most this many history entries; no page needs to be larger. */
const MAX_HISTORY_ITEMS = 10_000;

export interface ComfyBridgeOptions {
  /** ComfyUI's address, e.g. http://127.0.0.1:8188. */
  url: string;
  scorer: Scorer;
  store: Store;
  policy: Policy;
  /** Image types to score: `output` (SaveImage) by default; add `temp` for PreviewImage. */
  types?: readonly string[] | undefined;
  /** Re-queue rejected prompts with new seeds, up to `policy.maxRegenerations` per original prompt. */
  regenerate?: boolean | undefined;
  /** ComfyUI's output folder: enables quarantine of rejected outputs (moved, never deleted). */
  quarantineDir?: string | undefined;
  /** Push verdicts to the node pack route (default true; best effort). */
  feedback?: boolean | undefined;
  /** The bridge's ComfyUI client id (default: a new UUID per start). */
  clientId?: string | undefined;
  logger?: BridgeLogger | undefined;
  /** Called with the events each stored score or verdict appended (the server's live stream). */
  onEvents?: ((events: StoredEvent[]) => void) | undefined;
  /** Images fetched and scored at once (default 8): bounds memory and the scorer's queue in a burst. */
  concurrency?: number | undefined;
  /** First /history page size; doubled (×4) while a page holds nothing already handled. */
  historyPageSize?: number | undefined;
  reconnect?: Partial<BackoffOptions> | undefined;
  /** First delay before retrying prompts that failed for a passing reason (default 2 s, doubling to 60 s). */
  retryMs?: number | undefined;
  /** Random source for seeds and jitter (tests). */
  random?: (() => number) | undefined;
}

export interface BridgeStats {
  connected: boolean;
  handledPrompts: number;
  inFlightPrompts: number;
  scored: number;
  failed: number;
  regenerated: number;
  catchUps: number;
}

/** A counting semaphore: `run` waits for a free slot. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly size: number) {}
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}

interface Scored {
  image: OutputImage;
  bytes: number;
  result: ScoreResult;
}

class TransientFailure extends Error {}

export class ComfyBridge {
  readonly instance: string;
  readonly clientId: string;
  private readonly http: ComfyHttp;
  private readonly socket: ComfySocket;
  private readonly feedback: Feedback | null;
  private readonly logger: BridgeLogger;
  private readonly types: ReadonlySet<string>;
  private readonly limiter: Limiter;
  private readonly random: () => number;
  private handled = new Set<string>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Prompts whose last attempt failed for a reason that may pass (ComfyUI down, queue full, locked DB). */
  private readonly retry = new Set<string>();
  private retryTimer: NodeJS.Timeout | null = null;
  private retryRound = 0;
  private readonly catchUps = new Set<Promise<void>>();
  private catchUpAgain = false;
  /** queue_remaining of the last `status`, null right after (re)connecting. */
  private queueRemaining: number | null = null;
  private running = false;
  private warnedUnreachable = false;
  private readonly stats = { scored: 0, failed: 0, regenerated: 0, catchUps: 0 };

  constructor(private readonly options: ComfyBridgeOptions) {
    this.http = new ComfyHttp(options.url);
    this.instance = this.http.url;
    this.clientId = options.clientId ?? randomUUID();
    this.logger = options.logger ?? silentLogger;
    this.types = new Set(options.types ?? ['output']);
    this.limiter = new Limiter(options.concurrency ?? 8);
    this.random = options.random ?? Math.random;
    this.feedback = options.feedback === false ? null : new Feedback(this.http, this.logger);
    this.socket = new ComfySocket(ComfySocket.urlFor(this.instance, this.clientId), { ...options.reconnect, random: options.reconnect?.random ?? options.random });
    this.socket.on('open', () => this.socketOnOpen());
    this.socket.on('frame', (frame) => this.socketOnFrame(frame));
    this.socket.on('invalid', ({ type, problem }) => {
      this.logger.warn({ comfyui: this.instance, type, problem }, 'ComfyUI sent a frame the bridge does not understand; catching up from /history');
      this.requestCatchUp();
    });
    this.socket.on('close', ({ code, reconnectInMs }) => {
      this.logger.warn({ comfyui: this.instance, code, reconnectInMs }, 'ComfyUI socket closed; reconnecting');
    });
    this.socket.on('unreachable', ({ detail, attempt, reconnectInMs }) => {
      // Down at start or restarting is normal: say it once, then only at debug level.
      const level = this.warnedUnreachable ? 'debug' : 'info';
      this.warnedUnreachable = true;
      this.logger[level]({ comfyui: this.instance, detail, attempt, reconnectInMs }, 'ComfyUI is not reachable; retrying');
    });
  }

  /** Loads the cursor and starts watching; never fails because ComfyUI is down (it retries). */
  async start(): Promise<void> {
    if (this.running) return;
    this.handled = await this.options.store.comfyui.handledPrompts(this.instance);
    this.running = true;
    this.logger.info({ comfyui: this.instance, clientId: this.clientId, handledPrompts: this.handled.size }, 'watching ComfyUI');
    this.socket.start();
  }

  /** Stops watching, then waits for prompts being scored and feedback being sent. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.socket.stop();
    await this.idle();
    this.http.close();
  }

  /** Resolves once no catch-up, prompt or feedback push is in progress. */
  async idle(): Promise<void> {
    for (;;) {
      const pending = [...this.catchUps, ...this.inFlight.values()];
      if (pending.length === 0) break;
      await Promise.allSettled(pending);
    }
    await this.feedback?.settled();
  }

  getStats(): BridgeStats {
    return { connected: this.socket.connected, handledPrompts: this.handled.size, inFlightPrompts: this.inFlight.size, ...this.stats };
  }

  private socketOnOpen(): void {
    this.warnedUnreachable = false;
    // Frames were lost while disconnected: the next status is compared with nothing.
    this.queueRemaining = null;
    this.logger.info({ comfyui: this.instance }, 'connected to ComfyUI');
    this.requestCatchUp();
  }

  private socketOnFrame(frame: ConsumedFrame): void {
    switch (frame.type) {
      case 'status': {
        // Sent to every socket when a prompt is queued, starts or finishes: the only sign of foreign
        // prompts. ComfyUI broadcasts one per queue change, so a prompt can only have finished when the
        // queue shrank; a growing or unchanged queue (a prompt queued, or taken to run) needs no
        // /history read, which keeps those reads from delaying the one that matters.
        const remaining = frame.data.status.exec_info.queue_remaining;
        const previous = this.queueRemaining;
        this.queueRemaining = remaining;
        if (previous === null || remaining < previous) this.requestCatchUp();
        return;
      }
      case 'executing':
        // `node: null` with our prompt_id: the prompt's history entry is written, fetch it directly.
        if (frame.data.node === null && frame.data.prompt_id !== undefined) this.fetchPrompt(frame.data.prompt_id);
        return;
      case 'execution_error':
        this.logger.warn(
          { comfyui: this.instance, promptId: frame.data.prompt_id, node: frame.data.node_id, nodeType: frame.data.node_type, exception: frame.data.exception_message },
          'a prompt the bridge queued failed in ComfyUI',
        );
        return;
      default:
        return;
    }
  }

  /**
   * Runs a /history catch-up. Up to two run at once: a `status` that arrives while one is waiting for
   * ComfyUI starts another at once (the running one may have read history just before the prompt
   * finished); beyond two, statuses coalesce into one more run when a slot frees. Prompts are deduped
   * by the in-flight set, so overlapping catch-ups never score twice.
   */
  requestCatchUp(): Promise<void> {
    if (this.catchUps.size >= MAX_CONCURRENT_CATCH_UPS) {
      this.catchUpAgain = true;
      return Promise.all(this.catchUps).then(() => undefined);
    }
    const run: Promise<void> = this.catchUpOnce().finally(() => {
      this.catchUps.delete(run);
      if (this.catchUpAgain && this.running) {
        this.catchUpAgain = false;
        void this.requestCatchUp();
      }
    });
    this.catchUps.add(run);
    return run;
  }

  private async catchUpOnce(): Promise<void> {
    this.stats.catchUps += 1;
    for (const promptId of this.retry) this.fetchPrompt(promptId);
    const known = new Set([...this.handled, ...this.inFlight.keys()]);
    let size = this.options.historyPageSize ?? 8;
    for (;;) {
      let page;
      try {
        page = await this.http.history(size);
      } catch (error) {
        // Down or restarting: the reconnect's catch-up will retry.
        this.logger.debug({ comfyui: this.instance, err: message(error) }, 'history catch-up failed');
        return;
      }
      for (const { promptId, problem } of page.invalid) {
        this.logger.warn({ comfyui: this.instance, promptId, problem }, 'skipped a history entry the bridge does not understand');
      }
      let reachedKnown = false;
      for (const [promptId, entry] of page.entries) {
        if (known.has(promptId)) reachedKnown = true;
        else this.processPrompt(promptId, entry);
      }
      // A page with nothing handled may have older unhandled entries before it: widen the page.
      if (reachedKnown || page.entries.size + page.invalid.length < size || size >= MAX_HISTORY_ITEMS) return;
      size = Math.min(size * 4, MAX_HISTORY_ITEMS);
    }
  }

  /** Runs a catch-up after a growing delay while prompts wait for a retry; the delay resets once none do. */
  private scheduleRetry(): void {
    if (this.retryTimer !== null || !this.running) return;
    const base = this.options.retryMs ?? 2_000;
    const delay = Math.min(base * 2 ** this.retryRound, 60_000);
    this.retryRound += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.retry.size === 0) {
        this.retryRound = 0;
        return;
      }
      void this.requestCatchUp();
    }, delay);
    this.retryTimer.unref();
  }

  private fetchPrompt(promptId: string): void {
    if (this.handled.has(promptId) || this.inFlight.has(promptId)) return;
    this.http.historyOf(promptId).then(
      (entry) => {
        if (entry !== null) this.processPrompt(promptId, entry);
        else if (this.retry.delete(promptId)) {
          // ComfyUI restarted and lost its history: nothing left to score for this prompt.
          this.logger.warn({ comfyui: this.instance, promptId }, 'a prompt waiting for a retry is no longer in ComfyUI\'s history; giving up on it');
        }
      },
      (error: unknown) => this.logger.debug({ comfyui: this.instance, promptId, err: message(error) }, 'could not read a finished prompt; the next catch-up will'),
    );
  }

  /** Scores the outputs of one finished prompt, at most once at a time per prompt. */
  private processPrompt(promptId: string, entry: HistoryEntry): void {
    if (this.handled.has(promptId) || this.inFlight.has(promptId)) return;
    this.retry.delete(promptId);
    const work = this.handlePrompt(promptId, entry)
      .then(() => {
        if (this.retry.size === 0) this.retryRound = 0;
      })
      .catch((error: unknown) => {
        // Left unhandled on purpose: the next catch-up retries it by id (it may be too old for the page),
        // and a timer makes sure there is a next one even if ComfyUI stays idle.
        this.retry.add(promptId);
        this.scheduleRetry();
        this.logger.warn({ comfyui: this.instance, promptId, err: message(error) }, 'a finished prompt could not be handled now; will retry');
      })
      .finally(() => this.inFlight.delete(promptId));
    this.inFlight.set(promptId, work);
  }

  private async handlePrompt(promptId: string, entry: HistoryEntry): Promise<void> {
    const records = this.options.store.comfyui;
    const status = entry.status?.status_str ?? 'success';
    if (status !== 'success') this.logWorkflowError(promptId, entry);
    const graph = entry.prompt[2];
    const prompts = extractComfyPrompts(graph);
    const lineage = await records.lineage(this.instance, promptId);
    const images = outputImages(entry, this.types);
    const byNode = new Map<string, OutputImage[]>();
    for (const image of images) byNode.set(image.node, [...(byNode.get(image.node) ?? []), image]);
    let transient = false;
    let accepted = false;
    let firstRejected: number | null = null;
    const results = await Promise.allSettled(
      [...byNode].map(([node, batch]) =>
        this.handleBatch(promptId, node, batch, { prompt: prompts.positive, negativePrompt: prompts.negative, parentId: lineage?.parentGenerationId ?? null }),
      ),
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
    await records.markPromptHandled(this.instance, promptId, status);
    this.handled.add(promptId);
    if (this.options.regenerate && status === 'success' && images.length > 0 && !accepted && firstRejected !== null) {
      await this.regenerate(promptId, entry, lineage?.rootPromptId ?? promptId, firstRejected);
    }
  }

  private logWorkflowError(promptId: string, entry: HistoryEntry): void {
    const messages = (entry.status?.messages ?? []) as [string, Record<string, unknown>][];
    const error = messages.find((m) => Array.isArray(m) && (m[0] === 'execution_error' || m[0] === 'execution_interrupted'));
    // An interruption is the user's own doing: worth a line, not a warning.
    this.logger[error?.[0] === 'execution_interrupted' ? 'info' : 'warn'](
      {
        comfyui: this.instance,
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

  /** Scores one node's images as a batch, stores them with their verdicts and ranks. */
  private async handleBatch(
    promptId: string,
    node: string,
    images: OutputImage[],
    context: { prompt: string | null; negativePrompt: string | null; parentId: number | null },
  ): Promise<{ accepted: boolean; firstRejected: number | null }> {
    const records = this.options.store.comfyui;
    const fresh: OutputImage[] = [];
    let accepted = false;
    for (const image of images) {
      const existing = await records.findOutput(this.instance, image);
      // A cached resubmission repeats the old file names: that file is already scored.
      if (existing === null) fresh.push(image);
      else if (existing.scoreId !== null) accepted ||= (await this.latestVerdictAccepts(existing.generationId)) ?? false;
    }
    if (fresh.length === 0) return { accepted, firstRejected: null };
    let transient = false;
    const scored: Scored[] = [];
    await Promise.all(
      fresh.map(async (image) => {
        try {
          scored.push(await this.limiter.run(() => this.scoreImage(promptId, image, context)));
        } catch (error) {
          if (isTransient(error)) {
            transient = true;
            return;
          }
          const code = isAgiqaError(error) ? error.code : 'AGQ_ERR_SERVER_INTERNAL';
          this.stats.failed += 1;
          this.logger.warn(
            { comfyui: this.instance, promptId, node, filename: image.filename, subfolder: image.subfolder, type: image.type, code, err: message(error) },
            'an output image could not be scored; the others go on',
          );
          await records.recordOutput({ instance: this.instance, promptId, node, ...pick(image), batchIndex: image.batchIndex, generationId: null, scoreId: null, errorCode: code });
        }
      }),
    );
    scored.sort((a, b) => a.image.batchIndex - b.image.batchIndex);
    const judgement = judgeBatch(
      scored.map((s) => s.result),
      this.options.policy,
    );
    let firstRejected: number | null = null;
    for (const [index, item] of scored.entries()) {
      const verdict = judgement.verdicts[index]!;
      const rank = judgement.ranks[index]!;
      const saved = await this.options.store.saveScore(
        {
          source: 'comfyui',
          external: { promptId, node, filename: item.image.filename },
          prompt: context.prompt,
          negativePrompt: context.negativePrompt,
          imageSha256: item.result.image.sha256,
          fileRef: `${this.instance}/view?${new URLSearchParams(pick(item.image)).toString()}`,
          bytes: item.bytes,
          parentId: context.parentId,
        },
        item.result,
        verdict,
      );
      const events = [...saved.events];
      // An identical image + prompt already stored (e.g. a deterministic graph run twice) keeps its row;
      // this batch's verdict is recorded on it when it differs.
      if (!saved.inserted) {
        const event = await this.options.store.saveVerdict(saved.generationId, saved.scoreId, verdict);
        if (event !== null) events.push(event);
      }
      const output = await records.recordOutput({ instance: this.instance, promptId, node, ...pick(item.image), batchIndex: item.image.batchIndex, generationId: saved.generationId, scoreId: saved.scoreId, errorCode: null, rank });
      this.stats.scored += 1;
      this.logger.debug(
        { comfyui: this.instance, promptId, node, filename: item.image.filename, generationId: saved.generationId, mos: item.result.mos, verdict: verdict.verdict, rank },
        'scored a ComfyUI output',
      );
      if (events.length > 0) this.options.onEvents?.(events);
      if (verdict.verdict === 'accept') accepted = true;
      else firstRejected ??= saved.generationId;
      this.feedback?.push(verdictPush({ promptId, node, ...pick(item.image), batchIndex: item.image.batchIndex, rank, generationId: saved.generationId }, item.result, verdict));
      if (verdict.verdict === 'reject') await this.quarantine(output.id, promptId, node, item.image, saved.generationId, verdict, item.result);
    }
    if (transient) throw new TransientFailure();
    return { accepted, firstRejected };
  }

  private async latestVerdictAccepts(generationId: number | null): Promise<boolean | null> {
    if (generationId === null) return null;
    const view = await this.options.store.getGeneration(generationId);
    const verdict = view?.scores.at(-1)?.verdict;
    return verdict === undefined || verdict === null ? null : verdict.verdict === 'accept';
  }

  private async scoreImage(promptId: string, image: OutputImage, context: { prompt: string | null; negativePrompt: string | null }): Promise<Scored> {
    const bytes = await this.http.view(image, { promptId, node: image.node });
    const size = bytes.length; // read now: the buffer moves to the scoring worker
    // No prompt in the graph: the scorer falls back to the prompt embedded in the PNG.
    const result = await this.options.scorer.score({
      image: bytes,
      name: image.subfolder === '' ? image.filename : `${image.subfolder}/${image.filename}`,
      prompt: context.prompt ?? undefined,
      negativePrompt: context.negativePrompt ?? undefined,
      handOver: true,
    });
    return { image, bytes: size, result };
  }

  private async quarantine(outputId: number, promptId: string, node: string, image: OutputImage, generationId: number, verdict: Verdict, result: ScoreResult): Promise<void> {
    if (this.options.quarantineDir === undefined || image.type !== 'output') return;
    try {
      const move = await quarantineFile(this.options.quarantineDir, image, {
        comfyui: this.instance,
        promptId,
        node,
        generationId,
        mos: result.mos,
        reasons: verdict.reasons.map((r) => r.text),
      });
      if (move === null) {
        this.logger.warn({ comfyui: this.instance, promptId, filename: image.filename, outputDir: this.options.quarantineDir }, 'rejected output not found in the output folder; not quarantined');
        return;
      }
      await this.options.store.comfyui.setQuarantined(outputId, move.to);
      this.logger.info({ comfyui: this.instance, promptId, from: move.from, to: move.to }, 'quarantined a rejected output');
    } catch (error) {
      this.logger.error({ comfyui: this.instance, promptId, filename: image.filename, code: isAgiqaError(error) ? error.code : undefined, err: message(error) }, 'could not quarantine a rejected output');
    }
  }

  /** Re-queues a rejected prompt with new seeds when the budget of its original prompt allows. */
  private async regenerate(promptId: string, entry: HistoryEntry, rootPromptId: string, parentGenerationId: number): Promise<void> {
    const records = this.options.store.comfyui;
    const max = this.options.policy.maxRegenerations ?? 0;
    if (await records.lineageHasAccepted(this.instance, rootPromptId)) return;
    const sofar = await records.regenerationCount(this.instance, rootPromptId);
    const decision = regenerationBudget({ verdict: 'reject' }, sofar, max);
    if (decision.action !== 'regenerate') {
      this.logger.info({ comfyui: this.instance, promptId, rootPromptId, regenerations: sofar }, 'regeneration budget spent; keeping the best attempt');
      return;
    }
    const { graph, changes } = reseedGraph(entry.prompt[2], this.random);
    if (changes.length === 0) {
      this.logger.info({ comfyui: this.instance, promptId, code: 'AGQ_ERR_COMFYUI_NO_SEED' }, 'rejected prompt has no seed to change; not regenerated');
      return;
    }
    // The lineage is recorded before queuing, under a prompt_id we choose, so the new prompt's outputs
    // know their parent even when ComfyUI finishes it before the POST answer arrives.
    const newPromptId = randomUUID();
    const attempt = sofar + 1;
    await records.recordRegeneration(this.instance, { promptId: newPromptId, rootPromptId, parentPromptId: promptId, parentGenerationId, attempt });
    try {
      await this.http.queuePromptWithId(graph, this.clientId, newPromptId, regenerationExtraData(entry.prompt[3]));
    } catch (error) {
      await records.forgetRegeneration(this.instance, newPromptId);
      this.logger.warn({ comfyui: this.instance, promptId, rootPromptId, attempt, err: message(error) }, 'ComfyUI refused the regenerated prompt; not retried');
      return;
    }
    this.stats.regenerated += 1;
    this.logger.info({ comfyui: this.instance, promptId, newPromptId, rootPromptId, attempt, seeds: changes }, 'rejected: queued a regeneration with new seeds');
  }
}

function pick(image: OutputImage): { filename: string; subfolder: string; type: string } {
  return { filename: image.filename, subfolder: image.subfolder, type: image.type };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
