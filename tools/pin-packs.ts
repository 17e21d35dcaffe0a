// Pins known packs for `agiqa models pull`: asks the hub which commit main points at, downloads every
// file of the pack at that commit, hashes it (and checks the hub's own LFS sha256 where it lists one),
// and writes the commit and hashes into models/pack-pins.json. Run by a maintainer with network:
//   npx tsx tools/pin-packs.ts clip-vit-b32 siglip-b16 mobileclip-s2 [--hub https://huggingface.co/]
// Review the diff of models/pack-pins.json, run `agiqa models pull NAME` once per pack, commit.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { hubHost } from '../src/model/clip/hub-pull.js';
import { KNOWN_PACKS, PACK_PINS_FILE, packFilesOf, type KnownPack, type PackPin } from '../src/model/clip/known-packs.js';

interface HubRevision {
  sha?: unknown;
  siblings?: { rfilename?: unknown; lfs?: { sha256?: unknown } }[];
}

async function streamSha256(url: string): Promise<string> {
  const response = await fetch(url);
  if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status} from ${url}`);
  const hash = createHash('sha256');
  for await (const chunk of response.body) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

/** The pin of `pack` at the commit main points at on `host`; throws when the hub's LFS hash disagrees. */
export async function pinPack(pack: KnownPack, host: string, log: (line: string) => void = () => undefined): Promise<PackPin> {
  const api = `${host}api/models/${pack.repo}/revision/main?blobs=true`;
  const response = await fetch(api);
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${api}`);
  const info = (await response.json()) as HubRevision;
  if (typeof info.sha !== 'string' || !/^[0-9a-f]{40}$/.test(info.sha)) throw new Error(`${api} named no commit (sha)`);
  const revision = info.sha;
  const sha256: Record<string, string> = {};
  for (const file of packFilesOf(pack)) {
    const actual = await streamSha256(`${host}${pack.repo}/resolve/${revision}/${file}`);
    const listed = info.siblings?.find((s) => s.rfilename === file)?.lfs?.sha256;
    if (typeof listed === 'string' && listed !== actual) throw new Error(`${pack.name}: ${file} hashes to ${actual} but the hub lists ${listed}`);
    sha256[file] = actual;
    log(`${pack.name}  ${file}  ${actual}${typeof listed === 'string' ? '  (= hub LFS sha256)' : ''}`);
  }
  return { revision, sha256 };
}

/** Replaces the pins of `names` in the pins file, keeping the others and its comment. */
export async function writePins(file: string, pins: Record<string, PackPin>): Promise<void> {
  const json = JSON.parse(await readFile(file, 'utf8')) as { $comment?: string; packs?: Record<string, PackPin> };
  const packs = { ...(json.packs ?? {}), ...pins };
  const sorted = Object.fromEntries(Object.keys(packs).sort().map((k) => [k, packs[k]!]));
  await writeFile(file, `${JSON.stringify({ $comment: json.$comment, packs: sorted }, null, 2)}\n`);
}

async function main(argv: string[]): Promise<void> {
  const hubIndex = argv.indexOf('--hub');
  const host = hubHost(hubIndex >= 0 ? argv[hubIndex + 1] : undefined);
  const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--hub');
  if (names.length === 0) throw new Error(`name the packs to pin: ${KNOWN_PACKS.map((p) => p.name).join(' ')}`);
  const pins: Record<string, PackPin> = {};
  for (const name of names) {
    const pack = KNOWN_PACKS.find((p) => p.name === name);
    if (pack === undefined) throw new Error(`"${name}" is not a known pack (${KNOWN_PACKS.map((p) => p.name).join(', ')})`);
    pins[name] = await pinPack(pack, host, (line) => process.stdout.write(`${line}\n`));
  }
  await writePins(PACK_PINS_FILE, pins);
  process.stdout.write(`wrote ${PACK_PINS_FILE}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`pin-packs: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
