// Prometheus metrics of one server instance (its own registry, so several servers in one process,
// as in tests, never share counters).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { imageBuffers } from '../scoring/index.js';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  scores: Counter<'verdict'>;
  cacheHits: Counter;
  rejectedBusy: Counter;
}

export interface LoadReading {
  inFlight: number;
  queued: number;
  running: number;
  workers?: number | undefined;
  stalled?: number | undefined;
  cancelled?: number | undefined;
}

export function createMetrics(load: () => LoadReading): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'agiqa_' });
  const requests = new Counter({ name: 'agiqa_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const duration = new Histogram({
    name: 'agiqa_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const scores = new Counter({ name: 'agiqa_scores_total', help: 'Images scored (not cached) by verdict', labelNames: ['verdict'] as const, registers: [registry] });
  const cacheHits = new Counter({ name: 'agiqa_score_cache_hits_total', help: 'Score requests answered from the database without rescoring', registers: [registry] });
  const rejectedBusy = new Counter({ name: 'agiqa_queue_rejections_total', help: 'Requests answered 503 because the queue was full', registers: [registry] });
  new Gauge({
    name: 'agiqa_queue_depth',
    help: 'Images waiting for a scoring worker',
    registers: [registry],
    collect() {
      this.set(load().queued);
    },
  });
  new Gauge({
    name: 'agiqa_scoring_in_flight',
    help: 'Images admitted by the server and not yet answered (waiting, running or being stored)',
    registers: [registry],
    collect() {
      this.set(load().inFlight);
    },
  });
  new Counter({
    name: 'agiqa_scoring_jobs_cancelled_total',
    help: 'Scoring jobs cancelled at their deadline (queue.jobTimeoutMs); each one\'s worker was terminated and replaced',
    registers: [registry],
    collect() {
      // The pool keeps the count (bridges' jobs included); the counter mirrors it when scraped.
      this.reset();
      this.inc(load().cancelled ?? 0);
    },
  });
  new Gauge({
    name: 'agiqa_scoring_workers',
    help: 'Scoring workers loaded and serving (below queue.workers while a replacement loads)',
    registers: [registry],
    collect() {
      this.set(load().workers ?? 0);
    },
  });
  new Gauge({
    name: 'agiqa_scoring_workers_stalled',
    help: 'Scoring workers running a job past half its deadline',
    registers: [registry],
    collect() {
      this.set(load().stalled ?? 0);
    },
  });
  // The process's pool of image buffers (shared by every server in the process, as the workers are).
  new Counter({
    name: 'agiqa_image_buffers_allocated_total',
    help: 'Image buffers (256 KiB and up) allocated because the pool had none of the size free',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(imageBuffers.stats.allocated);
    },
  });
  new Counter({
    name: 'agiqa_image_buffers_reused_total',
    help: 'Image buffers taken from the pool (given back by a scoring worker) instead of allocated',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(imageBuffers.stats.reused);
    },
  });
  return { registry, requests, duration, scores, cacheHits, rejectedBusy };
}
