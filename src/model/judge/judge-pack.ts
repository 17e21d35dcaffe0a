// Writes and probes judge packs: `agiqa models add NAME --judge-url URL --judge-model MODEL` asks the
// server what it serves and whether the model sees images and gives log-probabilities, then writes
// $AGIQA_HOME/models/NAME/pack.json with the round texts of models/judge-rounds/ and the settings below.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agiqaError, zodIssues } from '../../errors/index.js';
import { dataUrlOf, encodeForModel } from '../../image/index.js';
import { ASPECTS } from '../aspects.js';
import { packManifestSchema, type PackManifest } from '../pack-manifest.js';
import { agiqaHome, EMBEDDED_PACKS_DIR } from '../packs.js';
import { chatCompletion, detectFlavor, listModels, type JudgeServer } from './judge-client.js';
import { judgeInputDigest, judgeRoundsSchema, type JudgeInput, type JudgeRounds } from './judge-input.js';

/** The round texts shipped with agiqa (the reference implementation's, with their source). */
export const DEFAULT_ROUNDS_FILE = join(EMBEDDED_PACKS_DIR, 'judge-rounds', 'm3-agiqa-v1.json');

export async function readRounds(file: string = DEFAULT_ROUNDS_FILE): Promise<JudgeRounds> {
  const parsed = judgeRoundsSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!parsed.success) throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: file, issues: zodIssues(parsed.error) });
  return parsed.data;
}

export const DEFAULT_JUDGE_SETTINGS = {
  concurrency: 2,
  timeoutMs: 120_000,
  retries: 3,
  backoffMs: 500,
  image: { maxSide: 768, format: 'png' as const },
  decoding: { temperature: 0, describeMaxTokens: 160, rateMaxTokens: 4, topLogprobs: 20, seed: 0 },
  // Case and a leading space are folded before matching; "excel" covers vocabularies that split it.
  levelForms: { bad: ['bad'], poor: ['poor'], fair: ['fair'], good: ['good'], excellent: ['excellent', 'excel'] },
  findingMaxChars: 200,
};

export interface JudgePackSpec {
  name: string;
  url: string;
  model: string;
  flavor: JudgeServer['flavor'];
  apiKeyEnv?: string | null | undefined;
  rounds: JudgeRounds;
  /** Settings that differ from DEFAULT_JUDGE_SETTINGS. */
  server?: Partial<Pick<JudgeServer, 'concurrency' | 'timeoutMs' | 'retries' | 'backoffMs'>> | undefined;
  image?: Partial<JudgeInput['image']> | undefined;
  decoding?: Partial<JudgeInput['decoding']> | undefined;
}

/** The pack.json of a judge pack; its version ends with the digest of its input. */
export function judgePackManifest(spec: JudgePackSpec): PackManifest {
  const d = DEFAULT_JUDGE_SETTINGS;
  const input: JudgeInput = {
    kind: 'judge',
    server: {
      url: spec.url.replace(/\/+$/, ''),
      flavor: spec.flavor,
      model: spec.model,
      apiKeyEnv: spec.apiKeyEnv ?? null,
      concurrency: spec.server?.concurrency ?? d.concurrency,
      timeoutMs: spec.server?.timeoutMs ?? d.timeoutMs,
      retries: spec.server?.retries ?? d.retries,
      backoffMs: spec.server?.backoffMs ?? d.backoffMs,
    },
    image: { ...d.image, ...spec.image },
    decoding: { ...d.decoding, ...spec.decoding },
    levelForms: d.levelForms,
    findingMaxChars: d.findingMaxChars,
    rounds: spec.rounds,
  };
  const manifest = {
    schemaVersion: 1 as const,
    name: spec.name,
    version: `${spec.rounds.version}+${judgeInputDigest(input)}`,
    description: `M3 judge: ${spec.model} at ${input.server.url} (${spec.flavor}), two rounds per aspect (describe, then one word of bad…excellent), round texts "${spec.rounds.id}" v${spec.rounds.version}`,
    license: 'the model\'s own license (served by the user\'s model server)',
    aspects: [...ASPECTS],
    files: [],
    input,
    models: {},
    predictor: null,
    training: {},
    metrics: {},
  };
  const parsed = packManifestSchema.safeParse(manifest);
  if (!parsed.success) throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: spec.name, issues: zodIssues(parsed.error) });
  return parsed.data;
}

/** Writes pack.json into $AGIQA_HOME/models/<name>/ (atomically: a reader never sees half a file). */
export async function writeJudgePack(manifest: PackManifest, home?: string): Promise<string> {
  const dir = join(agiqaHome(home), 'models', manifest.name);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `pack.json.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(dir, 'pack.json'));
  return dir;
}

export interface ProbeReport {
  flavor: JudgeServer['flavor'];
  models: string[];
  /** Whether round 2's answer came with log-probabilities (else scores are the word alone, flagged). */
  logprobs: boolean;
}

/**
 * Asks the server what it serves and sends one tiny image with a one-token answer and logprobs.
 * Throws AGQ_ERR_JUDGE_UNREACHABLE, _MODEL_NOT_FOUND (with the served names), _NO_VISION, _LOADING,
 * _REFUSED, _TIMEOUT, _BAD_ANSWER.
 */
export async function probeJudge(server: Pick<JudgeServer, 'url' | 'model' | 'apiKeyEnv'> & { timeoutMs?: number }): Promise<ProbeReport> {
  const timeoutMs = server.timeoutMs ?? 30_000;
  const url = server.url.replace(/\/+$/, '');
  const models = await listModels({ url, apiKeyEnv: server.apiKeyEnv, timeoutMs });
  // Ollama lists "name:tag"; a name without a tag means ":latest".
  const served = models.includes(server.model) || models.includes(`${server.model}:latest`);
  if (!served) throw agiqaError('AGQ_ERR_JUDGE_MODEL_NOT_FOUND', { url, model: server.model, available: models.slice(0, 20) });
  const flavor = await detectFlavor(url, Math.min(timeoutMs, 5_000));
  const grey = { rgb: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };
  const image = dataUrlOf(await encodeForModel(grey, { maxSide: 32, format: 'png' }));
  const answer = await chatCompletion(
    { url, flavor, model: server.model, apiKeyEnv: server.apiKeyEnv, concurrency: 1, timeoutMs, retries: 0, backoffMs: 0 },
    {
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }, { type: 'text', text: 'Is this image grey? Answer with one word.' }] }],
      maxTokens: 1,
      temperature: 0,
      seed: 0,
      topLogprobs: 5,
    },
  );
  return { flavor, models, logprobs: answer.tokens !== null };
}
