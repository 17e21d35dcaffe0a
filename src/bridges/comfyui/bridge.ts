// The watcher: sees every prompt a ComfyUI instance finishes, whoever queued it, and scores each output
// image once. Run events reach only the submitting socket, so the bridge reads /history on connect,
// after every reconnect and on every `status` broadcast; the persisted cursor (handled prompt ids) and
// the per-file output records make bridge and ComfyUI restarts neither rescore nor miss anything.
// Scoring, judging, storing and publishing are the shared pipeline's (src/pipeline/); what is ComfyUI's
// — fetching outputs, records, feedback, quarantine, regeneration — is in prompt-outputs.ts.
import { randomUUID } from 'node:crypto';
import type { ScoringPipeline } from '../../pipeline/index.js';
import type { Store } from '../../store/index.js';
import { Feedback } from './feedback.js';
import { ComfyHttp } from './http-client.js';
import { Limiter } from './limiter.js';
import { silentLogger, type BridgeLogger } from './logger.js';
import type { ConsumedFrame, HistoryEntry } from './protocol.js';
import { message, PromptOutputs } from './prompt-outputs.js';
import { ComfySocket, type BackoffOptions } from './ws-client.js';

const MAX_CONCURRENT_CATCH_UPS = 2;
/** ComfyUI keeps at most this many history entries; no page needs to be larger. */
const MAX_HISTORY_ITEMS = 10_000;

export interface ComfyBridgeOptions {
  /** ComfyUI's address, e.g. http://127.0.0.1:8188. */
  url: string;
  /** The scoring pipeline the server's routes use: one admission, one set of metrics, one rank rule. */
  pipeline: ScoringPipeline;
  /** The bridge's records (cursor, outputs, lineage) live in the pipeline's store. */
  store: Store;
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
  /** Images fetched from ComfyUI at once (default 8); scoring is bounded by the pipeline's admission. */
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

export class ComfyBridge {
  readonly instance: string;
  readonly clientId: string;
  private readonly http: ComfyHttp;
  private readonly socket: ComfySocket;
  private readonly feedback: Feedback | null;
  private readonly logger: BridgeLogger;
  private readonly outputs: PromptOutputs;
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
    this.feedback = options.feedback === false ? null : new Feedback(this.http, this.logger);
    this.outputs = new PromptOutputs({
      instance: this.instance,
      clientId: this.clientId,
      http: this.http,
      pipeline: options.pipeline,
      store: options.store,
      types: new Set(options.types ?? ['output']),
      fetches: new Limiter(options.concurrency ?? 8),
      feedback: this.feedback,
      logger: this.logger,
      regenerate: options.regenerate === true,
      quarantineDir: options.quarantineDir,
      random: options.random ?? Math.random,
      stats: this.stats,
    });
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
    const work = this.outputs
      .handle(promptId, entry)
      .then(() => {
        this.handled.add(promptId);
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
}
