// `agiqa models list | pull <name> | verify <name> | remove <name>`: the model packs a user can
// install from the Hugging Face hub (or copy in by hand), in $AGIQA_HOME/models/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { isAgiqaError } from '../../errors/index.js';
import { installedSummary, removePack, verifyPack } from '../../model/clip/clip-pack-store.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, manualDownloadInstructions, pullPack, type PullProgress } from '../../model/clip/hub-pull.js';
import { KNOWN_PACKS, knownPack } from '../../model/clip/known-packs.js';
import { DEFAULT_JUDGE_SETTINGS, judgePackManifest, probeJudge, readRounds, writeJudgePack } from '../../model/judge/judge-pack.js';
import { agiqaHome, EMBEDDED_PACKS_DIR, listPacks } from '../../model/packs.js';
import { commandLine } from '../args.js';
import { EXIT, reportFatal } from '../main.js';

const HELP = `Usage: agiqa models <list|pull|verify|remove|add> [name] [options]

Model packs live in $AGIQA_HOME/models/<name>/ (AGIQA_HOME defaults to ~/.agiqa).

  list              the packs agiqa knows and the packs installed
  pull <name>       download a known pack from the Hugging Face hub (resumes an interrupted pull)
  verify <name>     check every file's sha256; for a folder copied in by hand, write its pack.json
  remove <name>     delete an installed pack
  add <name> --judge-url URL --judge-model MODEL
                    make a judge pack: the M3 rounds through your multimodal model server
                    (Ollama, llama-server, vLLM, LM Studio); agiqa asks the server first whether it
                    serves the model, sees images and gives log-probabilities

Options:
  --json             list: print JSON
  --accept-license   pull: accept a restrictive license (mobileclip-s2)
  --unpinned         pull: a pack with no pinned revision: take the hub's current files (their
                     commit and sha256 go into pack.json; nothing checks them against a known good set)
  --timeout SECONDS  pull: give up when the hub does not answer within this time (default ${DEFAULT_CONNECT_TIMEOUT_MS / 1000})
  --hub URL          pull: hub address (default $HF_ENDPOINT or https://huggingface.co/)
  --judge-url URL    add: the server's base URL (Ollama http://127.0.0.1:11434, llama-server http://127.0.0.1:8080)
  --judge-model M    add: the model name as the server lists it at /v1/models
  --api-key-env VAR  add: environment variable holding an API key (sent as a Bearer token)
  --concurrency N    add: requests in flight to the server at once (default ${DEFAULT_JUDGE_SETTINGS.concurrency}; match its parallel slots)
  --image-size PX    add: longest side of the image sent (default ${DEFAULT_JUDGE_SETTINGS.image.maxSide})
  --force            add: replace a pack of that name
  -h, --help         show this help`;

const cli = commandLine({
  name: 'models',
  help: HELP,
  options: {
    json: { type: 'boolean', default: false },
    'accept-license': { type: 'boolean', default: false },
    unpinned: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    hub: { type: 'string' },
    'judge-url': { type: 'string' },
    'judge-model': { type: 'string' },
    'api-key-env': { type: 'string' },
    concurrency: { type: 'string' },
    'image-size': { type: 'string' },
    force: { type: 'boolean', default: false },
  },
  positionals: true,
});

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [action, name, ...extra] = positionals;
  if (action === undefined) return cli.usageError('agiqa models needs an action: list, pull, verify or remove');
  if (action === 'list') {
    if (name !== undefined) return cli.usageError('agiqa models list takes no pack name');
    return list(values.json);
  }
  if (!['pull', 'verify', 'remove', 'add'].includes(action)) return cli.usageError(`unknown action "${action}" (expected list, pull, verify, remove or add)`);
  if (name === undefined) return cli.usageError(`agiqa models ${action} needs a pack name (see \`agiqa models list\`)`);
  if (extra.length > 0) return cli.usageError(`agiqa models ${action} takes one pack name but received ${positionals.length - 1}`);
  if (action === 'add') return add(name, values);
  try {
    if (action === 'pull') {
      const seconds = values.timeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS / 1000 : Number(values.timeout);
      if (!(Number.isFinite(seconds) && seconds > 0 && seconds <= 600)) return cli.usageError(`Expected a number of seconds from 0 to 600 for --timeout but received "${values.timeout}"`);
      return await pull(name, { acceptLicense: values['accept-license'], connectTimeoutMs: seconds * 1000, remoteHost: values.hub, allowUnpinned: values.unpinned });
    }
    if (action === 'verify') {
      const result = await verifyPack(name);
      const what = result.status === 'written' ? 'pack.json written with the sha256 of' : 'verified';
      process.stdout.write(`${name}: ${what} ${result.files} files in ${result.dir}\n`);
      return EXIT.ok;
    }
    const dir = await removePack(name);
    process.stdout.write(`${name}: removed ${dir}\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFatal(error);
  }
}

async function list(json: boolean): Promise<number> {
  const installed = await listPacks();
  const rows = [];
  for (const pack of KNOWN_PACKS) {
    const summary = await installedSummary(pack.name);
    rows.push({
      name: pack.name,
      status: summary !== null ? 'installed' : 'available',
      license: pack.license,
      size: summary !== null ? megabytes(summary.bytes) : `~${pack.approxMB} MB`,
      recommended: pack.recommended,
      description: pack.description,
    });
  }
  for (const pack of installed) {
    if (knownPack(pack.name) !== undefined) continue;
    rows.push({ name: pack.name, status: pack.embedded ? 'embedded' : 'installed', license: '', size: '', recommended: false, description: `aspects: ${pack.aspects.join(', ')}` });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ home: agiqaHome(), packs: rows })}\n`);
    return EXIT.ok;
  }
  const width = Math.max(...rows.map((r) => r.name.length)) + 2;
  process.stdout.write(`Packs in ${agiqaHome()}/models (and embedded):\n`);
  for (const row of rows) {
    const mark = row.recommended ? ' (recommended)' : '';
    process.stdout.write(`  ${row.name.padEnd(width)}${row.status.padEnd(11)}${row.size.padEnd(9)}${row.license ? `${row.license.split(' (')[0]}  ` : ''}${row.description}${mark}\n`);
  }
  return EXIT.ok;
}

async function pull(name: string, options: { acceptLicense: boolean; connectTimeoutMs: number; remoteHost: string | undefined; allowUnpinned: boolean }): Promise<number> {
  const interactive = process.stderr.isTTY === true;
  const bar = interactive ? new cliProgress.SingleBar({ format: ' {file} [{bar}] {percentage}% {value}/{total} MB', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  let current = '';
  const onProgress = (p: PullProgress): void => {
    if (bar === null || p.total <= 0) return;
    const total = Math.max(0.01, +(p.total / 1e6).toFixed(2));
    if (p.file !== current) {
      if (current !== '') bar.stop();
      current = p.file;
      bar.start(total, 0, { file: p.file });
    }
    bar.update(+(p.loaded / 1e6).toFixed(2));
  };
  try {
    const result = await pullPack(name, { ...options, onProgress });
    bar?.stop();
    const what = result.status === 'pulled' ? `pulled ${result.manifest.files.length} files into` : 'already installed in';
    process.stdout.write(`${name}: ${what} ${result.dir}\n`);
    return EXIT.ok;
  } catch (error) {
    bar?.stop();
    const code = reportFatal(error);
    const pack = knownPack(name);
    if (pack !== undefined && isAgiqaError(error) && (error.code === 'AGQ_ERR_PACK_PULL_OFFLINE' || error.code === 'AGQ_ERR_PACK_PULL_FAILED')) {
      process.stderr.write(`${manualDownloadInstructions(pack).join('\n')}\n`);
    }
    return code;
  }
}

function wholeNumber(text: string | undefined, name: string, min: number, max: number, problems: string[]): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= min && value <= max)) problems.push(`Expected a whole number from ${min} to ${max} for --${name} but received "${text}"`);
  return value;
}

async function add(
  name: string,
  values: { 'judge-url'?: string | undefined; 'judge-model'?: string | undefined; 'api-key-env'?: string | undefined; concurrency?: string | undefined; 'image-size'?: string | undefined; timeout?: string | undefined; force: boolean },
): Promise<number> {
  const problems: string[] = [];
  const url = values['judge-url'];
  const model = values['judge-model'];
  if (url === undefined) problems.push('agiqa models add needs --judge-url (the model server, e.g. http://127.0.0.1:11434)');
  else if (!/^https?:\/\/[^/\s]+/.test(url)) problems.push(`Expected an http:// or https:// URL for --judge-url but received "${url}"`);
  if (model === undefined) problems.push('agiqa models add needs --judge-model (the name the server lists at /v1/models)');
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) problems.push(`Expected a pack name of lowercase letters, digits, ".", "_" or "-" but received "${name}"`);
  const concurrency = wholeNumber(values.concurrency, 'concurrency', 1, 64, problems);
  const maxSide = wholeNumber(values['image-size'], 'image-size', 32, 4096, problems);
  const seconds = values.timeout === undefined ? undefined : Number(values.timeout);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0 && seconds <= 600)) problems.push(`Expected a number of seconds from 0 to 600 for --timeout but received "${values.timeout}"`);
  const apiKeyEnv = values['api-key-env'];
  if (apiKeyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(apiKeyEnv)) problems.push(`Expected an environment variable name for --api-key-env but received "${apiKeyEnv}"`);
  if (problems.length > 0) return cli.usageError(problems.join('; '));
  if (existsSync(join(EMBEDDED_PACKS_DIR, name))) return cli.usageError(`"${name}" is the name of an embedded pack; choose another name`);
  const target = join(agiqaHome(), 'models', name, 'pack.json');
  if (existsSync(target) && !values.force) return cli.usageError(`a pack "${name}" exists already (${target}); add --force to replace it`);
  try {
    const timeoutMs = seconds === undefined ? undefined : seconds * 1000;
    const probe = await probeJudge({ url: url!, model: model!, apiKeyEnv: apiKeyEnv ?? null, timeoutMs });
    const manifest = judgePackManifest({
      name,
      url: url!,
      model: model!,
      flavor: probe.flavor,
      apiKeyEnv: apiKeyEnv ?? null,
      rounds: await readRounds(),
      server: { concurrency, timeoutMs },
      image: maxSide === undefined ? undefined : { maxSide },
    });
    const dir = await writeJudgePack(manifest);
    process.stdout.write(`${name}: judge pack written to ${dir} (${model} at ${url}, ${probe.flavor}; version ${manifest.version})\n`);
    if (!probe.logprobs) {
      process.stderr.write(`agiqa: warning: ${url} sent no log-probabilities; each aspect's level will be the judge's one word, flagged "word-only" (Ollama gives them from 0.12.11 on; llama-server and vLLM do)\n`);
    }
    process.stdout.write(`Score with: agiqa score --pack ${name} IMAGE --prompt "..."\n`);
    return EXIT.ok;
  } catch (error) {
    return reportFatal(error);
  }
}
