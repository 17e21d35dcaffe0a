// Starts one bridge per configured ComfyUI instance for `agiqa serve`, and stops them together
// (before the server closes its store).
import type { ComfyuiConfig } from '../../config/index.js';
import type { ScoringPipeline } from '../../pipeline/index.js';
import type { Store } from '../../store/index.js';
import { ComfyBridge } from './bridge.js';
import type { BridgeLogger } from './logger.js';

export interface ComfyBridgesOptions {
  instances: readonly ComfyuiConfig[];
  /** The server's pipeline: bridge images share its admission, metrics and event stream. */
  pipeline: ScoringPipeline;
  store: Store;
  logger: BridgeLogger;
}

export interface RunningBridges {
  bridges: ComfyBridge[];
  stop(): Promise<void>;
}

/** Starts every bridge; ComfyUI being down is not an error (each bridge retries on its own). */
export async function startComfyBridges(options: ComfyBridgesOptions): Promise<RunningBridges> {
  const bridges = options.instances.map(
    (instance) =>
      new ComfyBridge({
        url: instance.url,
        pipeline: options.pipeline,
        store: options.store,
        types: instance.types,
        regenerate: instance.regenerate,
        feedback: instance.feedback,
        quarantineDir: instance.quarantine ? instance.outputDir : undefined,
        logger: options.logger,
      }),
  );
  await Promise.all(bridges.map((bridge) => bridge.start()));
  return {
    bridges,
    stop: async () => {
      await Promise.all(bridges.map((bridge) => bridge.stop()));
    },
  };
}
