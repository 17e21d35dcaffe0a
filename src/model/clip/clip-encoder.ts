// Image and text encoders of a CLIP-family pack through transformers.js (tokenizer, image processor,
// vision and text towers with projection), loaded from the verified local pack folder only. Text
// embeddings are cached per text; every embedding is L2-normalised so a dot product is a cosine.
import { basename, dirname } from 'node:path';
import {
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  env,
  RawImage,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  type Tensor,
} from '@huggingface/transformers';
import { agiqaError } from '../../errors/index.js';
import type { LoadedPack } from '../packs.js';
import type { ClipInput } from './clip-input.js';
import { LruMap } from './clip-lru.js';
import { withTransformersEnv } from './transformers-env.js';

/** Decoded pixels as src/image gives them: 8-bit RGB, interleaved, row-major. */
export interface RgbPixels {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface TokenCount {
  /** Tokens of the whole text, start and end tokens included. */
  tokens: number;
  /** The text tower's limit; a text with more tokens is cut to it. */
  limit: number;
  truncated: boolean;
}

/** The configuration and tokenizer files every CLIP-family pack carries besides its two towers. */
export const CLIP_PACK_CONFIG_FILES = ['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

const DTYPE_SUFFIX: Record<ClipInput['dtype'], string> = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4' };
const HF_MODEL_ID = /^[\w.-]{1,96}$/;

interface TowerFile {
  subfolder: string;
  modelFileName: string;
}

/** Splits `onnx/vision_model_quantized.onnx` into what transformers.js asks for, checking the dtype suffix. */
export function towerFileOf(pack: string, role: string, path: string, dtype: ClipInput['dtype']): TowerFile {
  const suffix = `${DTYPE_SUFFIX[dtype]}.onnx`;
  const slash = path.lastIndexOf('/');
  const file = path.slice(slash + 1);
  if (!file.endsWith(suffix) || file.length === suffix.length || (dtype === 'fp32' && /_(fp16|quantized|int8|uint8|q4)\.onnx$/.test(file))) {
    throw agiqaError('AGQ_ERR_PACK_INVALID', {
      pack,
      issues: [`models.${role}.file is ${path}, but input.dtype "${dtype}" expects a file named <name>${suffix}`],
    });
  }
  return { subfolder: slash < 0 ? '' : path.slice(0, slash), modelFileName: file.slice(0, -suffix.length) };
}

function normalise(data: Float32Array, offset: number, length: number): Float32Array {
  const out = new Float32Array(length);
  let norm = 0;
  for (let i = 0; i < length; i++) {
    const v = data[offset + i]!;
    out[i] = v;
    norm += v * v;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < length; i++) out[i]! /= norm;
  return out;
}

function rows(tensor: Tensor, label: string): Float32Array[] {
  const [count, width] = tensor.dims as number[];
  if (tensor.dims.length !== 2 || count === undefined || width === undefined || !(tensor.data instanceof Float32Array)) {
    throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: label, detail: `expected a float32 [batch, dim] embedding but got ${tensor.type} [${tensor.dims.join(', ')}]` });
  }
  return Array.from({ length: count }, (_, i) => normalise(tensor.data as Float32Array, i * width, width));
}

export interface ClipEncoderOptions {
  /** onnxruntime intra-op threads for each tower. */
  threads: number;
}

export class ClipEncoder {
  private readonly textCache: LruMap<string, Float32Array>;

  private constructor(
    private readonly packName: string,
    private readonly input: ClipInput,
    private readonly tokenizer: PreTrainedTokenizer,
    private readonly processor: Processor,
    private readonly vision: PreTrainedModel,
    private readonly text: PreTrainedModel,
  ) {
    this.textCache = new LruMap(input.promptCacheSize);
  }

  /**
   * Loads the towers of a verified pack (loadPack checked every hash). Never reaches a network: remote
   * models are disabled and the pack folder is the only place looked in. Throws AGQ_ERR_PACK_INVALID
   * when the pack lacks a file the encoder needs, AGQ_ERR_MODEL_LOAD when a file does not load.
   */
  static async load(pack: LoadedPack, options: ClipEncoderOptions): Promise<ClipEncoder> {
    const { manifest } = pack;
    const name = manifest.name;
    if (manifest.input.kind !== 'clip') throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: name, issues: [`input.kind is ${manifest.input.kind}, expected clip`] });
    const input = manifest.input;
    const issues: string[] = [];
    for (const file of CLIP_PACK_CONFIG_FILES) if (!pack.files.has(file)) issues.push(`files[] lacks ${file}`);
    for (const role of ['vision', 'text'] as const) if (manifest.models[role] === undefined) issues.push(`models.${role} is missing`);
    if (issues.length > 0) throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: name, issues });
    const visionFile = towerFileOf(name, 'vision', manifest.models.vision!.file, input.dtype);
    const textFile = towerFileOf(name, 'text', manifest.models.text!.file, input.dtype);

    return withTransformersEnv(() => ClipEncoder.loadTowers(pack, input, visionFile, textFile, options));
  }

  private static async loadTowers(pack: LoadedPack, input: ClipInput, visionFile: TowerFile, textFile: TowerFile, options: ClipEncoderOptions): Promise<ClipEncoder> {
    const { manifest } = pack;
    const name = manifest.name;
    // transformers.js resolves a model id against env.localModelPath; a folder name that is not a
    // valid id is passed as a path instead, which it also reads locally.
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.useFSCache = false;
    const folder = basename(pack.dir);
    let id = pack.dir;
    if (HF_MODEL_ID.test(folder) && !folder.includes('--') && !folder.includes('..')) {
      env.localModelPath = `${dirname(pack.dir)}/`;
      id = folder;
    }
    const sessionOptions = { intraOpNumThreads: options.threads, interOpNumThreads: 1, executionMode: 'sequential' as const, graphOptimizationLevel: 'all' as const };
    const step = async <T>(file: string, load: () => Promise<T>): Promise<T> => {
      try {
        return await load();
      } catch (cause) {
        throw agiqaError('AGQ_ERR_MODEL_LOAD', { pack: name, file, detail: (cause as Error).message }, { cause });
      }
    };
    // transformers.js memoises file lookups by model id and cache_dir, not by folder: the pack's own
    // folder as cache_dir keeps two packs with one folder name (other AGIQA_HOMEs) apart.
    const local = { local_files_only: true, cache_dir: pack.dir };
    const tokenizer = await step('tokenizer.json', () => AutoTokenizer.from_pretrained(id, local));
    const processor = await step('preprocessor_config.json', () => AutoProcessor.from_pretrained(id, local));
    const vision = await step(manifest.models.vision!.file, () =>
      CLIPVisionModelWithProjection.from_pretrained(id, {
        ...local,
        dtype: input.dtype,
        device: 'cpu',
        subfolder: visionFile.subfolder,
        model_file_name: visionFile.modelFileName,
        session_options: sessionOptions,
      }),
    );
    let text: PreTrainedModel;
    try {
      text = await step(manifest.models.text!.file, () =>
        CLIPTextModelWithProjection.from_pretrained(id, {
          ...local,
          dtype: input.dtype,
          device: 'cpu',
          subfolder: textFile.subfolder,
          model_file_name: textFile.modelFileName,
          session_options: sessionOptions,
        }),
      );
    } catch (error) {
      await vision.dispose();
      throw error;
    }
    return new ClipEncoder(name, input, tokenizer, processor, vision, text);
  }

  get maxTextTokens(): number {
    return this.input.maxTextTokens;
  }

  /** How many tokens `text` takes and whether the text tower will cut it. */
  countTokens(text: string): TokenCount {
    const tokens = this.tokenizer.encode(text).length;
    return { tokens, limit: this.input.maxTextTokens, truncated: tokens > this.input.maxTextTokens };
  }

  /** Embeds images in one pass of the image tower; one unit vector per image, in order. */
  async encodeImages(images: readonly RgbPixels[]): Promise<Float32Array[]> {
    if (images.length === 0) return [];
    const raw = images.map((image) => {
      if (image.rgb.length !== image.width * image.height * 3) {
        throw new RangeError(`Expected ${image.width * image.height * 3} RGB bytes for ${image.width}×${image.height} but received ${image.rgb.length}`);
      }
      return new RawImage(image.rgb, image.width, image.height, 3);
    });
    const label = `${this.packName}/vision`;
    try {
      const { pixel_values } = (await this.processor(raw)) as { pixel_values: Tensor };
      const output = (await this.vision({ pixel_values })) as Record<string, Tensor>;
      return rows(this.output(output, this.input.imageEmbedding, label), label);
    } catch (cause) {
      throw this.inferenceError(label, cause);
    }
  }

  /**
   * Embeds texts, reusing cached ones; the uncached are encoded together in one pass. Texts longer
   * than maxTextTokens are cut to it (see countTokens to tell the user).
   */
  async encodeTexts(texts: readonly string[]): Promise<Float32Array[]> {
    const missing = [...new Set(texts.filter((t) => !this.textCache.has(t)))];
    const encoded = new Map<string, Float32Array>();
    const label = `${this.packName}/text`;
    for (const group of this.lengthGroups(missing)) {
      try {
        const inputs = this.tokenizer(group, {
          padding: this.input.textPadding === 'max_length' ? 'max_length' : true,
          truncation: true,
          max_length: this.input.maxTextTokens,
        });
        const output = (await this.text(inputs)) as Record<string, Tensor>;
        const vectors = rows(this.output(output, this.input.textEmbedding, label), label);
        group.forEach((t, i) => {
          encoded.set(t, vectors[i]!);
          this.textCache.set(t, vectors[i]!);
        });
      } catch (cause) {
        throw this.inferenceError(label, cause);
      }
    }
    // A batch larger than the cache must still return every vector, hence the local map first.
    return texts.map((t) => encoded.get(t) ?? this.textCache.get(t)!);
  }

  /**
   * Splits texts into passes of similar token length: padded to the longest of a pass, a 60-token
   * prompt in one pass with eight 5-token phrases would make the text tower do nine times its work.
   */
  private lengthGroups(texts: readonly string[]): string[][] {
    if (texts.length <= 1 || this.input.textPadding === 'max_length') return texts.length === 0 ? [] : [[...texts]];
    const sized = texts.map((t) => ({ t, n: Math.min(this.input.maxTextTokens, this.tokenizer.encode(t).length) })).sort((a, b) => a.n - b.n);
    const groups: string[][] = [];
    let shortest = -1;
    for (const { t, n } of sized) {
      if (shortest < 0 || n > shortest * 2 + 4) {
        groups.push([]);
        shortest = n;
      }
      groups[groups.length - 1]!.push(t);
    }
    return groups;
  }

  /** Number of texts whose embeddings are cached now. */
  get cachedTexts(): number {
    return this.textCache.size;
  }

  private output(output: Record<string, Tensor>, name: string, label: string): Tensor {
    const tensor = output[name];
    if (tensor === undefined) {
      throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: label, detail: `the graph has no output ${name} (it has ${Object.keys(output).join(', ')}); fix input.${label.endsWith('vision') ? 'imageEmbedding' : 'textEmbedding'} in pack.json` });
    }
    return tensor;
  }

  private inferenceError(label: string, cause: unknown): Error {
    if (cause instanceof RangeError || (cause as { code?: string }).code?.startsWith('AGQ_ERR_')) return cause as Error;
    return agiqaError('AGQ_ERR_INFERENCE', { detail: `${label}: ${(cause as Error).message}` }, { cause });
  }

  async close(): Promise<void> {
    await Promise.all([this.vision.dispose(), this.text.dispose()]);
  }
}
