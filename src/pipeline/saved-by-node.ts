// Files written by the ComfyUI node pack's *Save image with score* come back through the bridge (they are
// the prompt's outputs): the node already scored their frame, so the file is linked to that generation
// instead of being scored again as a new one.
import { decodedFrameSha256, savedGenerationId, type ImageLimits } from '../image/index.js';
import type { Scorer } from '../scoring/index.js';
import type { Store, StoredScore } from '../store/index.js';
import type { PipelineImage } from './types.js';

/**
 * The stored score of a file Save image with score wrote: its `agiqa` chunk names the generation, and
 * its decoded pixels must hash to that generation's raw frame (the chunk alone proves nothing: any file
 * can carry any text). The generation's file name is recorded when the node could not record it. Null for
 * any other image, and when the generation has no score from `pack`.
 */
export async function savedByNode(store: Store, image: PipelineImage, pack: Scorer['pack'], limits: ImageLimits): Promise<StoredScore | null> {
  if (image.pixels !== undefined) return null;
  const generationId = savedGenerationId(image.image);
  if (generationId === null) return null;
  const generation = await store.getGeneration(generationId);
  if (generation === null) return null;
  const score = [...generation.scores].reverse().find((s) => s.pack.name === pack.name && s.pack.version === pack.version);
  if (score === undefined) return null;
  if ((await decodedFrameSha256(image.image, limits)) !== generation.image.sha256) return null;
  const filename = image.external?.filename;
  if (generation.external.filename === null && filename !== undefined) await store.linkFile(generation.id, { filename, fileRef: image.fileRef });
  return { generationId: generation.id, scoreId: score.id, result: score.result, verdict: score.verdict };
}
