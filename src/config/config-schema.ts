// The shape of agiqa.config.json and of the effective configuration, with every default in one place.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_PIXELS } from '../image/limits.js';

export const DEFAULT_PORT = 8420;
export const MIN_TOKEN_LENGTH = 16;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const mos = z.number().min(0).max(5);

export const policyConfigSchema = z
  .object({
    /** Minimum MOS per aspect; an aspect without a threshold, or one the pack did not judge, is not checked. */
    thresholds: z
      .object({ overall: mos.optional(), quality: mos.optional(), correspondence: mos.optional(), authenticity: mos.optional() })
      .strict()
      .default({ overall: 2.5 }),
    /** In a ranked batch only the best `topK` can be accepted. */
    topK: z.number().int().positive().optional(),
    /** In a ranked batch the best `keepAtLeast` are accepted even when they miss a threshold. */
    keepAtLeast: z.number().int().nonnegative().default(0),
    /** How many regenerations a prompt may get before its best attempt is kept anyway. */
    maxRegenerations: z.number().int().nonnegative().default(3),
  })
  .strict();
export type PolicyConfig = z.infer<typeof policyConfigSchema>;

const origin = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, 'expected an origin like http://localhost:8188 (scheme://host[:port], no path)');

/** One ComfyUI instance the server watches (`agiqa serve --comfyui URL` adds one with the defaults). */
export const comfyuiConfigSchema = z
  .object({
    url: origin,
    /** Image types to score: SaveImage writes `output`, PreviewImage `temp`. */
    types: z.array(z.enum(['output', 'temp'])).min(1).default(['output']),
    /** Re-queue rejected prompts with new seeds (up to policy.maxRegenerations per original prompt). */
    regenerate: z.boolean().default(false),
    /** Push verdicts to the agiqa node pack inside ComfyUI (best effort). */
    feedback: z.boolean().default(true),
    /** Move rejected outputs to `<outputDir>/agiqa-rejected/` (never deleted); needs `outputDir`. */
    quarantine: z.boolean().default(false),
    /** ComfyUI's output folder on this machine. */
    outputDir: z.string().min(1).optional(),
  })
  .strict()
  .refine((value) => !value.quarantine || value.outputDir !== undefined, { message: 'quarantine needs outputDir (ComfyUI\'s output folder)', path: ['outputDir'] });
export type ComfyuiConfig = z.infer<typeof comfyuiConfigSchema>;

/**
 * The cascade (opt-in): the fast pack (`pack`) scores every image; those near the threshold, or with a
 * flat level distribution, also go to the judge pack, whose answer decides unless it misses the deadline.
 */
export const cascadeConfigSchema = z
  .object({
    /** A judge pack (`agiqa models add NAME --judge-url … --judge-model …`). */
    judge: z.string().min(1),
    /** The MOS the verdict turns on; default: policy.thresholds.overall, else 2.5. */
    threshold: mos.optional(),
    /** Images whose fast MOS is within this of the threshold go to the judge. */
    band: z.number().min(0).max(5).default(0.5),
    /** Images with an aspect whose level entropy (0–1, ÷ ln 5) reaches this go to the judge; 1 turns it off. */
    flatEntropy: z.number().min(0).max(1).default(0.9),
    /** Past this the fast verdict stands (logged, counted in /metrics as agiqa_cascade_total{outcome="deadline"}). */
    deadlineMs: z.number().int().positive().max(600_000).default(20_000),
  })
  .strict();
export type CascadeConfig = z.infer<typeof cascadeConfigSchema>;

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(DEFAULT_PORT),
    /** Bearer token; required when `host` is not a loopback address. */
    token: z.string().min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`).optional(),
    corsOrigins: z.array(origin).default([]),
    pack: z.string().min(1).default('lite'),
    /** The one data directory: database, pulled packs, caches. */
    home: z.string().min(1).default(join(homedir(), '.agiqa')),
    /** Folders from which `{path}` score requests may read; empty disables scoring by path. */
    roots: z.array(z.string().min(1)).default([]),
    limits: z
      .object({
        maxBodyBytes: z.number().int().positive().default(64 * 1024 * 1024),
        maxImageBytes: z.number().int().positive().default(DEFAULT_MAX_IMAGE_BYTES),
        maxImagePixels: z.number().int().positive().default(DEFAULT_MAX_IMAGE_PIXELS),
      })
      .strict()
      .default({ maxBodyBytes: 64 * 1024 * 1024, maxImageBytes: DEFAULT_MAX_IMAGE_BYTES, maxImagePixels: DEFAULT_MAX_IMAGE_PIXELS }),
    queue: z
      .object({
        maxQueue: z.number().int().positive().default(32),
        workers: z.number().int().positive().default(2),
        /** How long a request waits for its score (queueing included) before a 504. */
        timeoutMs: z.number().int().positive().default(30_000),
        /** Running time per image after which a scoring job is cancelled and its worker replaced. */
        jobTimeoutMs: z.number().int().positive().default(20_000),
        /** At shutdown, how long admitted work may still finish before stuck workers are terminated. */
        shutdownGraceMs: z.number().int().nonnegative().default(10_000),
      })
      .strict()
      .default({ maxQueue: 32, workers: 2, timeoutMs: 30_000, jobTimeoutMs: 20_000, shutdownGraceMs: 10_000 }),
    /** Connection limits: slow or greedy clients are cut off instead of holding the server. */
    http: z
      .object({
        /** Time for a client to send its request headers. */
        headersTimeoutMs: z.number().int().positive().default(10_000),
        /** Time for a client to send a request body once its handler starts reading it (408 after). */
        bodyTimeoutMs: z.number().int().positive().default(30_000),
        /** An idle keep-alive connection is closed after this. */
        keepAliveTimeoutMs: z.number().int().positive().default(5_000),
        /** A connection with no traffic at all for this long is closed. */
        idleTimeoutMs: z.number().int().positive().default(60_000),
        /** Requests one client address may have in progress at once (429 beyond; /v1/health exempt). */
        maxRequestsPerClient: z.number().int().positive().default(16),
      })
      .strict()
      .default({ headersTimeoutMs: 10_000, bodyTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, idleTimeoutMs: 60_000, maxRequestsPerClient: 16 }),
    store: z
      .object({
        /** How long a write waits for another process's lock before answering AGQ_ERR_STORE_LOCKED. */
        busyTimeoutMs: z.number().int().nonnegative().default(2_000),
      })
      .strict()
      .default({ busyTimeoutMs: 2_000 }),
    policy: policyConfigSchema.default({ thresholds: { overall: 2.5 }, keepAtLeast: 0, maxRegenerations: 3 }),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** ComfyUI instances to watch and score. */
    comfyui: z.array(comfyuiConfigSchema).default([]),
    /** Absent: every image is scored by `pack` alone. */
    cascade: cascadeConfigSchema.optional(),
  })
  .strict();

/** The effective configuration: every default filled in. */
export type AgiqaConfig = z.infer<typeof configSchema>;
/** What a config file, the environment or the command line may set (every key optional). */
export type ConfigInput = z.input<typeof configSchema>;
