// The zero-shot round settings written into the pack.json of a pulled or hand-copied CLIP-family pack.
// The scorer reads them from pack.json only; these are the starting values, uncalibrated: nothing on
// this machine could measure them against human ratings (see docs/packs.md, "Accuracy").
import type { ClipRounds } from './clip-input.js';

const QUALITY_ANCHORS: ClipRounds['quality']['anchors'] = {
  bad: ['a bad quality photo', 'a very blurry, noisy and distorted image'],
  poor: ['a poor quality photo', 'a low quality image with visible flaws'],
  fair: ['a fair quality photo', 'an average quality image'],
  good: ['a good quality photo', 'a sharp, clean, well exposed image'],
  excellent: ['an excellent quality photo', 'a stunning, perfectly sharp, high quality image'],
};

const AUTHENTICITY = {
  real: [
    'a real photograph of a real scene',
    'an unedited photo taken with a camera',
    'a real painting made by a human artist',
    'a hand-drawn illustration',
  ],
  artifact: [
    'an AI-generated image with visual artifacts',
    'distorted hands with extra fingers',
    'a deformed face with asymmetric eyes',
    'garbled, unreadable text',
    'an image with a smooth plastic texture',
    'objects melting into each other',
  ],
};

/** Quality tags that say nothing about the scene: kept in the prompt, dropped from the noun phrases. */
const IGNORE_TERMS = [
  'masterpiece', 'best quality', 'high quality', 'highest quality', 'top quality', 'quality', 'ultra detailed', 'highly detailed',
  'detailed', 'intricate details', 'intricate', 'hd', 'uhd', 'hdr', 'high resolution', 'highres', 'absurdres', 'ultra realistic',
  'photorealistic', 'realistic', 'hyperrealistic', 'sharp focus', 'trending on artstation', 'artstation', 'octane render',
  'unreal engine', 'cinematic', 'award winning', 'award-winning', 'professional', 'beautiful', 'amazing', 'stunning', 'epic',
];

/** CLIP ViT-B/32: matching image–caption cosines sit near 0.30, unrelated pairs near 0.15. */
export const CLIP_ROUNDS: ClipRounds = {
  quality: { anchors: QUALITY_ANCHORS, temperature: 0.01, levelBias: [0, 0, 0, 0, 0] },
  correspondence: {
    phraseTemplate: 'a photo of {}',
    similarity: { low: 0.15, high: 0.35 },
    spread: 0.8,
    phraseWeight: 0.4,
    weakPhraseMos: 2,
    maxPhrases: 8,
    ignoreTerms: IGNORE_TERMS,
  },
  authenticity: { ...AUTHENTICITY, temperature: 0.01, spread: 0.8 },
};

/** SigLIP's sigmoid training puts cosines lower: matching pairs near 0.15, unrelated near 0. */
export const SIGLIP_ROUNDS: ClipRounds = {
  ...CLIP_ROUNDS,
  correspondence: { ...CLIP_ROUNDS.correspondence, similarity: { low: -0.02, high: 0.2 } },
};
