// Builds the effective configuration: defaults < config file < AGIQA_* environment < command-line
// flags. Each layer is validated on its own so that an error names where the bad value came from.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, resolve } from 'node:path';
import { agiqaError, zodIssues } from '../errors/index.js';
import { configSchema, type AgiqaConfig, type ConfigInput } from './config-schema.js';

export const CONFIG_FILE_NAME = 'agiqa.config.json';

type Env = Record<string, string | undefined>;

/** How each AGIQA_* variable maps onto a key; numbers are parsed strictly (no silent coercion). */
const ENV_KEYS: { name: string; path: string[]; kind: 'string' | 'int' | 'list' | 'paths' }[] = [
  { name: 'AGIQA_HOST', path: ['host'], kind: 'string' },
  { name: 'AGIQA_PORT', path: ['port'], kind: 'int' },
  { name: 'AGIQA_TOKEN', path: ['token'], kind: 'string' },
  { name: 'AGIQA_HOME', path: ['home'], kind: 'string' },
  { name: 'AGIQA_PACK', path: ['pack'], kind: 'string' },
  { name: 'AGIQA_CORS_ORIGINS', path: ['corsOrigins'], kind: 'list' },
  { name: 'AGIQA_ROOTS', path: ['roots'], kind: 'paths' },
  { name: 'AGIQA_LOG_LEVEL', path: ['logLevel'], kind: 'string' },
  { name: 'AGIQA_WORKERS', path: ['queue', 'workers'], kind: 'int' },
  { name: 'AGIQA_MAX_QUEUE', path: ['queue', 'maxQueue'], kind: 'int' },
  { name: 'AGIQA_TIMEOUT_MS', path: ['queue', 'timeoutMs'], kind: 'int' },
  { name: 'AGIQA_JOB_TIMEOUT_MS', path: ['queue', 'jobTimeoutMs'], kind: 'int' },
  { name: 'AGIQA_SHUTDOWN_GRACE_MS', path: ['queue', 'shutdownGraceMs'], kind: 'int' },
  { name: 'AGIQA_BODY_TIMEOUT_MS', path: ['http', 'bodyTimeoutMs'], kind: 'int' },
  { name: 'AGIQA_MAX_REQUESTS_PER_CLIENT', path: ['http', 'maxRequestsPerClient'], kind: 'int' },
  { name: 'AGIQA_MAX_BODY_BYTES', path: ['limits', 'maxBodyBytes'], kind: 'int' },
  { name: 'AGIQA_MAX_IMAGE_BYTES', path: ['limits', 'maxImageBytes'], kind: 'int' },
  { name: 'AGIQA_MAX_IMAGE_PIXELS', path: ['limits', 'maxImagePixels'], kind: 'int' },
];

/** Flags `agiqa serve` accepts; already-parsed values, undefined when not given. */
export interface ConfigFlags {
  host?: string | undefined;
  port?: number | undefined;
  pack?: string | undefined;
  home?: string | undefined;
  config?: string | undefined;
  /** `--comfyui URL`, repeatable: instances to watch besides (or overriding) the config file's. */
  comfyui?: string[] | undefined;
}

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  env?: Env;
  cwd?: string;
}

export interface LoadedConfig {
  config: AgiqaConfig;
  /** The config file that was read, or null when none was. */
  file: string | null;
}

type Layer = Record<string, unknown>;

function setPath(target: Layer, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Layer;
  }
  node[path[path.length - 1]!] = value;
}

function isPlainObject(value: unknown): value is Layer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Later layers win key by key; arrays are replaced, not concatenated. */
function deepMerge(base: Layer, over: Layer): Layer {
  const out: Layer = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Layer, value) : value;
  }
  return out;
}

function validateLayer(layer: Layer, source: string): void {
  const parsed = configSchema.safeParse(layer);
  if (!parsed.success) throw agiqaError('AGQ_ERR_CONFIG_INVALID', { source, issues: zodIssues(parsed.error) });
}

function fileLayer(options: LoadConfigOptions, cwd: string, env: Env): { layer: Layer; file: string | null } {
  let file: string;
  let from: string;
  if (options.flags?.config !== undefined) {
    file = resolve(cwd, options.flags.config);
    from = '--config';
  } else if (env.AGIQA_CONFIG) {
    file = resolve(cwd, env.AGIQA_CONFIG);
    from = 'AGIQA_CONFIG';
  } else {
    file = resolve(cwd, CONFIG_FILE_NAME);
    // The default file is optional; one named explicitly must exist.
    if (!existsSync(file)) return { layer: {}, file: null };
    from = 'the current directory';
  }
  if (!existsSync(file)) throw agiqaError('AGQ_ERR_CONFIG_NOT_FOUND', { file, from });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw agiqaError('AGQ_ERR_CONFIG_UNREADABLE', { file, detail: cause instanceof Error ? cause.message : String(cause) }, { cause });
  }
  if (!isPlainObject(raw)) throw agiqaError('AGQ_ERR_CONFIG_INVALID', { source: file, issues: ['(root): expected a JSON object'] });
  validateLayer(raw, file);
  // Paths in a file are relative to the file, so the same file works from any current directory.
  const base = dirname(file);
  const layer: Layer = { ...raw };
  if (typeof layer.home === 'string') layer.home = resolve(base, layer.home);
  if (Array.isArray(layer.roots)) layer.roots = (layer.roots as string[]).map((root) => resolve(base, root));
  if (Array.isArray(layer.comfyui)) {
    layer.comfyui = (layer.comfyui as Layer[]).map((entry) => (typeof entry.outputDir === 'string' ? { ...entry, outputDir: resolve(base, entry.outputDir) } : entry));
  }
  return { layer, file };
}

function envLayer(env: Env, cwd: string): Layer {
  const layer: Layer = {};
  const issues: string[] = [];
  for (const { name, path, kind } of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue; // an empty variable counts as unset
    if (kind === 'int') {
      if (!/^\d+$/.test(raw.trim())) {
        issues.push(`${name}: expected a whole number, received "${raw}"`);
        continue;
      }
      setPath(layer, path, Number(raw.trim()));
    } else if (kind === 'list') {
      setPath(layer, path, raw.split(',').map((item) => item.trim()).filter((item) => item !== ''));
    } else if (kind === 'paths') {
      setPath(layer, path, raw.split(delimiter).filter((item) => item !== '').map((item) => resolve(cwd, item)));
    } else {
      setPath(layer, path, name === 'AGIQA_HOME' ? resolve(cwd, raw) : raw);
    }
  }
  if (issues.length > 0) throw agiqaError('AGQ_ERR_CONFIG_INVALID', { source: 'the environment', issues });
  validateLayer(layer, 'the environment');
  return layer;
}

function flagLayer(flags: ConfigFlags, cwd: string): Layer {
  const layer: Layer = {};
  if (flags.host !== undefined) layer.host = flags.host;
  if (flags.port !== undefined) layer.port = flags.port;
  if (flags.pack !== undefined) layer.pack = flags.pack;
  if (flags.home !== undefined) layer.home = resolve(cwd, flags.home);
  validateLayer(layer, 'the command line');
  if (flags.comfyui !== undefined) validateLayer({ comfyui: flags.comfyui.map((url) => ({ url })) }, 'the command line (--comfyui)');
  return layer;
}

/** Adds `--comfyui` URLs to the configured instances; a URL already configured keeps its options. */
function withComfyuiFlags(merged: Layer, urls: string[] | undefined): Layer {
  if (urls === undefined || urls.length === 0) return merged;
  const entries = Array.isArray(merged.comfyui) ? [...(merged.comfyui as Layer[])] : [];
  const known = new Set(entries.map((entry) => String(entry.url).replace(/\/$/, '')));
  for (const url of urls) if (!known.has(url.replace(/\/$/, ''))) entries.push({ url });
  return { ...merged, comfyui: entries };
}

/**
 * Reads and validates the effective configuration.
 * Throws AGQ_ERR_CONFIG_NOT_FOUND, AGQ_ERR_CONFIG_UNREADABLE or AGQ_ERR_CONFIG_INVALID (every problem of
 * the offending layer at once).
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const { layer: fromFile, file } = fileLayer(options, cwd, env);
  const merged = withComfyuiFlags(deepMerge(deepMerge(fromFile, envLayer(env, cwd)), flagLayer(options.flags ?? {}, cwd)), options.flags?.comfyui);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw agiqaError('AGQ_ERR_CONFIG_INVALID', { source: file ?? 'the merged configuration', issues: zodIssues(parsed.error) });
  const config = parsed.data;
  config.home = isAbsolute(config.home) ? config.home : resolve(cwd, config.home);
  return { config, file };
}

/** The configuration as `agiqa config print` shows it: secrets replaced so it can be pasted in an issue. */
export function maskConfig(config: AgiqaConfig): AgiqaConfig {
  return config.token === undefined ? { ...config } : { ...config, token: '********' };
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare) || bare === '::ffff:127.0.0.1';
}
