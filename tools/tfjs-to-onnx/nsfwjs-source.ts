// Reads the MobileNetV2 layers model that ships inside the nsfwjs npm package: the JSON and the
// weight shards are UMD bundles (so browsers can <script> them), which we evaluate in an empty
// sandbox to get their exports back without executing them in our own global scope.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { ConversionError } from './errors.js';
import type { LayersModelJson } from './layers-json.js';

export interface LayersModelSource {
  modelJson: LayersModelJson;
  /** All weight shards of the manifest, concatenated in manifest order. */
  weightData: Uint8Array;
  /** Where the files came from, for messages and reports. */
  origin: string;
}

/** Directory of nsfwjs's bundled MobileNetV2, or undefined when nsfwjs is not installed. */
export function findNsfwjsMobilenetDir(fromDir: string = process.cwd()): string | undefined {
  const require = createRequire(path.join(fromDir, 'noop.js'));
  let entry: string;
  try {
    // nsfwjs's "exports" hides package.json, so resolve its entry and walk up to the package root.
    entry = require.resolve('nsfwjs');
  } catch {
    return undefined;
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (path.basename(dir) === 'nsfwjs' && existsSync(path.join(dir, 'package.json'))) {
      return path.join(dir, 'dist', 'models', 'mobilenet_v2');
    }
  }
  return undefined;
}

async function evaluateUmd(file: string): Promise<unknown> {
  const code = await readFile(file, 'utf8');
  const module = { exports: {} as unknown };
  vm.runInNewContext(code, { module, exports: module.exports }, { filename: file });
  return module.exports;
}

/**
 * Loads model.min.js + its shards from `dir` (default: the installed nsfwjs).
 * @throws ConversionError TFJS_TO_ONNX_SOURCE_NOT_FOUND when nsfwjs or a shard is missing.
 */
export async function loadNsfwjsMobilenet(dir?: string): Promise<LayersModelSource> {
  const modelDir = dir ?? findNsfwjsMobilenetDir();
  if (modelDir === undefined) {
    throw new ConversionError(
      'TFJS_TO_ONNX_SOURCE_NOT_FOUND',
      'Cannot resolve the npm package nsfwjs; install the devDependencies (npm ci) or pass the model directory',
    );
  }
  const modelFile = path.join(modelDir, 'model.min.js');
  let modelJson: LayersModelJson;
  try {
    // Re-create the JSON in this realm: objects from the sandbox fail `instanceof Array` checks
    // (tfjs-layers' deserializer uses them).
    modelJson = JSON.parse(JSON.stringify(await evaluateUmd(modelFile))) as LayersModelJson;
  } catch (cause) {
    throw new ConversionError('TFJS_TO_ONNX_SOURCE_NOT_FOUND', `Cannot read the layers model ${modelFile}`, { cause });
  }
  if (!Array.isArray(modelJson?.weightsManifest)) {
    throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `${modelFile} has no weightsManifest array`);
  }
  const shards: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const shardPath of group.paths) {
      const shardFile = path.join(modelDir, `${shardPath}.min.js`);
      let base64: unknown;
      try {
        base64 = await evaluateUmd(shardFile);
      } catch (cause) {
        throw new ConversionError('TFJS_TO_ONNX_SOURCE_NOT_FOUND', `Cannot read the weight shard ${shardFile}`, { cause });
      }
      if (typeof base64 !== 'string') {
        throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `${shardFile} does not export a base64 string`);
      }
      shards.push(new Uint8Array(Buffer.from(base64, 'base64')));
    }
  }
  return { modelJson, weightData: Buffer.concat(shards), origin: modelDir };
}
