// The settings a running server may change without a restart (policy thresholds, regeneration budget,
// ComfyUI targets with their quarantine and regeneration switches): one holder that the scoring
// service and the bridges read, validated with the config's own zod schemas, persisted as
// $AGIQA_HOME/settings.json so that a restart keeps what the dashboard set.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { agiqaError, zodIssues } from '../errors/index.js';
import { comfyuiConfigSchema, policyConfigSchema, type AgiqaConfig, type ComfyuiConfig, type PolicyConfig } from './config-schema.js';

export const SETTINGS_FILE = 'settings.json';

/** What GET/PUT /v1/settings carry: exactly the config keys `policy` and `comfyui`. */
export const settingsSchema = z
  .object({
    policy: policyConfigSchema,
    comfyui: z.array(comfyuiConfigSchema).max(16),
  })
  .strict();
export type Settings = z.infer<typeof settingsSchema>;
export type SettingsInput = z.input<typeof settingsSchema>;

type Listener = (next: Settings, previous: Settings) => void;

/** Holds the live settings; `current` is always a validated, frozen-by-convention value. */
export class SettingsHolder {
  private value: Settings;
  private readonly listeners = new Set<Listener>();

  /** `file` null keeps changes in memory only (tests, `agiqa score`). */
  constructor(
    initial: Settings,
    private readonly file: string | null,
  ) {
    this.value = initial;
  }

  /**
   * The config's policy and ComfyUI targets, overridden by $home/settings.json when the dashboard
   * saved one. Throws AGQ_ERR_CONFIG_UNREADABLE / AGQ_ERR_CONFIG_INVALID for a damaged file.
   */
  static fromConfig(config: Pick<AgiqaConfig, 'policy' | 'comfyui' | 'home'>, options: { persist?: boolean } = {}): SettingsHolder {
    const file = options.persist === false ? null : join(config.home, SETTINGS_FILE);
    let initial: Settings = { policy: config.policy, comfyui: config.comfyui };
    if (file !== null) {
      let text: string | null = null;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw agiqaError('AGQ_ERR_CONFIG_UNREADABLE', { file, detail: (error as Error).message }, { cause: error });
      }
      if (text !== null) {
        const saved = parseSettingsFile(file, text);
        // Targets given in the config or with --comfyui that the saved list lacks are still watched.
        const extra = config.comfyui.filter((target) => !saved.comfyui.some((kept) => kept.url === target.url));
        initial = { policy: saved.policy, comfyui: [...saved.comfyui, ...extra] };
      }
    }
    return new SettingsHolder(initial, file);
  }

  get current(): Settings {
    return this.value;
  }

  get policy(): PolicyConfig {
    return this.value.policy;
  }

  get comfyui(): ComfyuiConfig[] {
    return this.value.comfyui;
  }

  /** Where the settings are persisted, or null. */
  get path(): string | null {
    return this.file;
  }

  /**
   * Validates `input` (the whole settings, as PUT sends them), persists it atomically, applies it and
   * tells every listener. Throws AGQ_ERR_INVALID_INPUT listing every problem, AGQ_ERR_SETTINGS_WRITE.
   */
  replace(input: unknown): Settings {
    const parsed = settingsSchema.safeParse(input);
    if (!parsed.success) throw agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'settings', issues: zodIssues(parsed.error) }, { details: { issues: zodIssues(parsed.error) } });
    const next = parsed.data;
    if (this.file !== null) {
      try {
        mkdirSync(dirname(this.file), { recursive: true });
        const temporary = `${this.file}.${process.pid}.tmp`;
        writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`);
        renameSync(temporary, this.file);
      } catch (error) {
        throw agiqaError('AGQ_ERR_SETTINGS_WRITE', { file: this.file, detail: (error as Error).message }, { cause: error });
      }
    }
    const previous = this.value;
    this.value = next;
    for (const listener of this.listeners) listener(next, previous);
    return next;
  }

  /** Calls `listener` after every change; returns the unsubscribe function. */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function parseSettingsFile(file: string, text: string): Settings {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw agiqaError('AGQ_ERR_CONFIG_UNREADABLE', { file, detail: (error as Error).message }, { cause: error });
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) throw agiqaError('AGQ_ERR_CONFIG_INVALID', { source: file, issues: zodIssues(parsed.error) });
  return parsed.data;
}
