// A worker's first image through onnxruntime took 2-5x a warm one here (the sessions size their buffers
// and prepare their kernels on their first run). A server's worker, a replacement too, pays that with a
// throwaway image before it takes work, so no user's image, and no image's job deadline, is charged for it.
import type { PackScorer } from './pack-scorer.js';

export const WARM_UP_SIDE = 256;

/**
 * Scores one generated image through every model of the pack: raw pixels (no decoder needed), a prompt
 * (a prompt-aware pack encodes text), and the detector asked for. A failure is left for the first real
 * image to report, where it has a name and a client.
 */
export async function warmUp(scorer: Pick<PackScorer, 'score'>): Promise<void> {
  const side = WARM_UP_SIDE;
  const image = new Uint8Array(side * side * 3);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7) % 251;
  await scorer.score({ image, pixels: { width: side, height: side, channels: 3 }, name: 'warm-up', prompt: 'a photo', detections: true }).catch(() => undefined);
}
