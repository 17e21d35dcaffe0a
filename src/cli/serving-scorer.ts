// The scorer `agiqa serve` runs: the configured pack, or — with `cascade` in the config — the fast
// pack and a judge pack composed by CascadeScorer, whose outcomes are logged and counted in /metrics.
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { AgiqaConfig } from '../config/index.js';
import { CascadeScorer, createScorer, type CascadeEvent, type Scorer } from '../scoring/index.js';

export interface ServingScorer {
  scorer: Promise<Scorer>;
  /** Adds the cascade's counter to the server's registry (a no-op without a cascade). */
  registerMetrics(registry: Registry): void;
}

export function createServingScorer(config: AgiqaConfig, logger: Logger): ServingScorer {
  const fast = createScorer({
    pack: config.pack,
    home: config.home,
    workers: config.queue.workers,
    maxQueue: config.queue.maxQueue,
    limits: { maxBytes: config.limits.maxImageBytes, maxPixels: config.limits.maxImagePixels },
    jobTimeoutMs: config.queue.jobTimeoutMs,
    warmUp: true,
  });
  const cascade = config.cascade;
  if (cascade === undefined) return { scorer: fast, registerMetrics: () => undefined };

  let counter: Counter<'outcome' | 'reason'> | undefined;
  const onEvent = (event: CascadeEvent): void => {
    counter?.inc({ outcome: event.outcome, reason: event.reason ?? 'none' });
    if (event.outcome === 'deadline' || event.outcome === 'judge-error') {
      logger.warn({ image: event.name, outcome: event.outcome, code: event.code, fastMos: event.fastMos, ms: event.ms }, 'cascade: the judge did not decide, the fast verdict stands');
    } else if (event.outcome === 'late') {
      logger.info({ image: event.name, reason: event.reason, fastMos: event.fastMos, judgeMos: event.judgeMos, ms: event.ms }, 'cascade: the judge answered after its deadline; its verdict is stored as the latest');
    } else if (event.outcome === 'judge') {
      logger.debug({ image: event.name, reason: event.reason, fastMos: event.fastMos, judgeMos: event.judgeMos, ms: event.ms }, 'cascade: the judge decided');
    }
  };
  const judge = createScorer({ pack: cascade.judge, home: config.home, limits: { maxBytes: config.limits.maxImageBytes, maxPixels: config.limits.maxImagePixels }, jobTimeoutMs: config.queue.jobTimeoutMs });
  // Neither half may be left running when the other fails to load.
  const scorer = Promise.allSettled([fast, judge]).then(async ([f, j]) => {
    if (f.status === 'rejected' || j.status === 'rejected') {
      await Promise.all([f, j].map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
      throw f.status === 'rejected' ? f.reason : (j as PromiseRejectedResult).reason;
    }
    const settings = {
      threshold: cascade.threshold ?? config.policy.thresholds.overall ?? 2.5,
      band: cascade.band,
      flatEntropy: cascade.flatEntropy,
      deadlineMs: cascade.deadlineMs,
    };
    logger.info({ fast: f.value.pack, judge: j.value.pack, ...settings }, 'cascade on');
    return new CascadeScorer(f.value, j.value, settings, onEvent) as Scorer;
  });
  return {
    scorer,
    registerMetrics: (registry) => {
      counter = new Counter({
        name: 'agiqa_cascade_total',
        help: 'Images through the cascade by outcome: clear (fast verdict, judge not asked), judge (the judge decided), deadline / judge-error (the fast verdict stood), late (a judge answer after its deadline, stored as the latest score)',
        labelNames: ['outcome', 'reason'] as const,
        registers: [registry],
      });
    },
  };
}
