// The CLIP-family packs `agiqa models pull` knows: where each comes from, its license, the files
// it needs and how its encoders are read. A pack not listed here can still be copied in by hand
// with its own pack.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { EMBEDDED_PACKS_DIR } from '../packs.js';
import type { ClipInput, ClipRounds } from './clip-input.js';
import { CLIP_ROUNDS, SIGLIP_ROUNDS } from './default-rounds.js';

/** A hub revision (a 40-hex commit, never a branch name) and the sha256 of each file at it. */
export interface PackPin {
  revision: string;
  sha256: Record<string, string>;
}

const packPinSchema = z
  .object({
    revision: z.string().regex(/^[0-9a-f]{40}$/, 'expected a 40-hex commit hash'),
    sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256')),
  })
  .strict();

/** Where the pins live: data written by tools/pin-packs.ts, shipped with the embedded packs. */
export const PACK_PINS_FILE = join(EMBEDDED_PACKS_DIR, 'pack-pins.json');

export function readPackPins(file: string = PACK_PINS_FILE): Record<string, PackPin> {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { packs?: unknown };
  return z.record(z.string(), packPinSchema).parse(json.packs ?? {});
}

export interface KnownPack {
  name: string;
  /** Hugging Face repository the files come from. */
  repo: string;
  license: string;
  licenseUrl: string;
  /** True when the license restricts use (pull asks for --accept-license). */
  restrictedLicense: boolean;
  recommended: boolean;
  description: string;
  /** Approximate download size in MB. */
  approxMB: number;
  /** Configuration and tokenizer files, then the two towers. */
  configFiles: string[];
  visionFile: string;
  textFile: string;
  input: Omit<ClipInput, 'kind' | 'rounds' | 'promptCacheSize'>;
  rounds: ClipRounds;
  /** The revision and file hashes a pull must get; absent until a maintainer pins the pack. */
  pin?: PackPin | undefined;
}

const CONFIG_FILES = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'];

const CATALOGUE: readonly KnownPack[] = [
  {
    name: 'clip-vit-b32',
    repo: 'Xenova/clip-vit-base-patch32',
    license: 'MIT',
    licenseUrl: 'https://github.com/openai/CLIP/blob/main/LICENSE',
    restrictedLicense: false,
    recommended: true,
    description: 'OpenAI CLIP ViT-B/32, int8-quantized ONNX (vision ~89 MB + text ~65 MB)',
    approxMB: 155,
    configFiles: CONFIG_FILES,
    visionFile: 'onnx/vision_model_quantized.onnx',
    textFile: 'onnx/text_model_quantized.onnx',
    input: { family: 'clip', dtype: 'q8', maxTextTokens: 77, textPadding: 'longest', imageEmbedding: 'image_embeds', textEmbedding: 'text_embeds' },
    rounds: CLIP_ROUNDS,
  },
  {
    name: 'siglip-b16',
    repo: 'Xenova/siglip-base-patch16-224',
    license: 'Apache-2.0',
    licenseUrl: 'https://www.apache.org/licenses/LICENSE-2.0',
    restrictedLicense: false,
    recommended: false,
    description: 'Google SigLIP B/16 at 224 px, int8-quantized ONNX; stronger zero-shot, slower than ViT-B/32',
    approxMB: 210,
    configFiles: CONFIG_FILES,
    visionFile: 'onnx/vision_model_quantized.onnx',
    textFile: 'onnx/text_model_quantized.onnx',
    input: { family: 'siglip', dtype: 'q8', maxTextTokens: 64, textPadding: 'max_length', imageEmbedding: 'pooler_output', textEmbedding: 'pooler_output' },
    rounds: SIGLIP_ROUNDS,
  },
  {
    name: 'mobileclip-s2',
    repo: 'Xenova/mobileclip_s2',
    license: 'apple-amlr (Apple Machine Learning Research Model license: research use only, no commercial use)',
    licenseUrl: 'https://huggingface.co/apple/MobileCLIP-S2/blob/main/LICENSE',
    restrictedLicense: true,
    recommended: false,
    description: 'Apple MobileCLIP-S2, fast on CPU; research-only license, read it before pulling',
    approxMB: 140,
    configFiles: CONFIG_FILES,
    visionFile: 'onnx/vision_model_quantized.onnx',
    textFile: 'onnx/text_model_quantized.onnx',
    input: { family: 'mobileclip', dtype: 'q8', maxTextTokens: 77, textPadding: 'longest', imageEmbedding: 'image_embeds', textEmbedding: 'text_embeds' },
    rounds: CLIP_ROUNDS,
  },
];

const PINS = readPackPins();
export const KNOWN_PACKS: readonly KnownPack[] = CATALOGUE.map((pack) => ({ ...pack, pin: PINS[pack.name] }));

export function knownPack(name: string): KnownPack | undefined {
  return KNOWN_PACKS.find((p) => p.name === name);
}

/** Every file a known pack needs, as paths inside the pack folder (= paths inside the repository). */
export function packFilesOf(pack: KnownPack): string[] {
  return [...pack.configFiles, pack.visionFile, pack.textFile];
}
