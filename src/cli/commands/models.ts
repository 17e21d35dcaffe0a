// `agiqa models list | pull <name> | verify <name> | remove <name>`: the model packs a user can
// install from the Hugging Face hub (or copy in by hand), in $AGIQA_HOME/models/.
import cliProgress from 'cli-progress';
import { isAgiqaError } from '../../errors/index.js';
import { installedSummary, removePack, verifyPack } from '../../model/clip/clip-pack-store.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, manualDownloadInstructions, pullPack, type PullProgress } from '../../model/clip/hub-pull.js';
import { KNOWN_PACKS, knownPack } from '../../model/clip/known-packs.js';
import { agiqaHome, listPacks } from '../../model/packs.js';
import { commandLine } from '../args.js';
import { EXIT, reportFatal } from '../main.js';

const HELP = `Usage: agiqa models <list|pull|verify|remove> [name] [options]

Model packs live in $AGIQA_HOME/models/<name>/ (AGIQA_HOME defaults to ~/.agiqa).

  list              the packs agiqa knows and the packs installed
  pull <name>       download a known pack from the Hugging Face hub (resumes an interrupted pull)
  verify <name>     check every file's sha256; for a folder copied in by hand, write its pack.json
  remove <name>     delete an installed pack

Options:
  --json             list: print JSON
  --accept-license   pull: accept a restrictive license (mobileclip-s2)
  --timeout SECONDS  pull: give up when the hub does not answer within this time (default ${DEFAULT_CONNECT_TIMEOUT_MS / 1000})
  --hub URL          pull: hub address (default $HF_ENDPOINT or https://huggingface.co/)
  -h, --help         show this help`;

const cli = commandLine({
  name: 'models',
  help: HELP,
  options: {
    json: { type: 'boolean', default: false },
    'accept-license': { type: 'boolean', default: false },
    timeout: { type: 'string' },
    hub: { type: 'string' },
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
  if (!['pull', 'verify', 'remove'].includes(action)) return cli.usageError(`unknown action "${action}" (expected list, pull, verify or remove)`);
  if (name === undefined) return cli.usageError(`agiqa models ${action} needs a pack name (see \`agiqa models list\`)`);
  if (extra.length > 0) return cli.usageError(`agiqa models ${action} takes one pack name but received ${positionals.length - 1}`);
  try {
    if (action === 'pull') {
      const seconds = values.timeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS / 1000 : Number(values.timeout);
      if (!(Number.isFinite(seconds) && seconds > 0 && seconds <= 600)) return cli.usageError(`Expected a number of seconds from 0 to 600 for --timeout but received "${values.timeout}"`);
      return await pull(name, { acceptLicense: values['accept-license'], connectTimeoutMs: seconds * 1000, remoteHost: values.hub });
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

async function pull(name: string, options: { acceptLicense: boolean; connectTimeoutMs: number; remoteHost: string | undefined }): Promise<number> {
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
