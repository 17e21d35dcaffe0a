// Starts one bridge per configured ComfyUI instance for `agiqa serve`, and stops them together
// (before the server closes its store).
import type { ComfyuiConfig } from '../../config/index.js';
import type { Policy } from '../../policy/index.js';
import type { Scorer } from '../../scoring/index.js';
import type { StoredEvent, Store } from '../../store/index.js';
import { ComfyBridge } from './bridge.js';
import type { BridgeLogger } from './logger.js';

export interface ComfyBridgesOptions {
  instances: readonly ComfyuiConfig[];
  scorer: Scorer;
  store: Store;
  policy: Policy;
  logger: BridgeLogger;
  publish: (events: StoredEvent[]) => void;
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
        scorer: options.scorer,
        store: options.store,
        policy: options.policy,
        types: instance.types,
        regenerate: instance.regenerate,
        feedback: instance.feedback,
        quarantineDir: instance.quarantine ? instance.outputDir : undefined,
        logger: options.logger,
        onEvents: options.publish,
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
