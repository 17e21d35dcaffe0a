// Feedback into ComfyUI: each verdict is posted to the node pack's route `POST /agiqa/verdict` so the
// front end shows it on the image at once. Best effort: without the node pack ComfyUI answers 404,
// which is logged once per instance; scoring never waits on or fails because of feedback.
import type { Verdict } from '../../policy/index.js';
import type { ScoreResult } from '../../scoring/index.js';
import type { ComfyHttp } from './http-client.js';
import type { BridgeLogger } from './logger.js';

/** The body of `POST /agiqa/verdict`, the contract with the ComfyUI node pack (docs/comfyui-bridge.md). */
export interface VerdictPush {
  prompt_id: string;
  node: string;
  filename: string;
  subfolder: string;
  type: string;
  batch_index: number;
  /** Position in its node's batch, 1 = best; null for a single image. */
  rank: number | null;
  generation_id: number;
  verdict: Verdict['verdict'];
  reasons: string[];
  mos: number;
  level: string;
  aspects: Record<string, number | null>;
}

export function verdictPush(
  ids: { promptId: string; node: string; filename: string; subfolder: string; type: string; batchIndex: number; rank: number | null; generationId: number },
  result: Pick<ScoreResult, 'mos' | 'level' | 'aspects'>,
  verdict: Verdict,
): VerdictPush {
  return {
    prompt_id: ids.promptId,
    node: ids.node,
    filename: ids.filename,
    subfolder: ids.subfolder,
    type: ids.type,
    batch_index: ids.batchIndex,
    rank: ids.rank,
    generation_id: ids.generationId,
    verdict: verdict.verdict,
    reasons: verdict.reasons.map((reason) => reason.text),
    mos: result.mos,
    level: result.level,
    aspects: Object.fromEntries(Object.entries(result.aspects).map(([aspect, value]) => [aspect, value.mos])),
  };
}

export class Feedback {
  private warnedMissingRoute = false;
  /** Pushes not yet settled, so shutdown and tests can wait for them. */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly http: ComfyHttp,
    private readonly logger: BridgeLogger,
  ) {}

  /** Sends without waiting; failures are logged, never thrown. */
  push(payload: VerdictPush): void {
    const sent = this.http
      .pushVerdict({ ...payload })
      .then((delivered) => {
        if (delivered || this.warnedMissingRoute) return;
        this.warnedMissingRoute = true;
        this.logger.info({ comfyui: this.http.url }, 'ComfyUI has no /agiqa/verdict route (the agiqa node pack is not installed): verdicts are stored but not shown in ComfyUI');
      })
      .catch((error: unknown) => {
        this.logger.warn({ comfyui: this.http.url, err: error instanceof Error ? error.message : String(error) }, 'could not push a verdict to ComfyUI');
      })
      .finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
