// A judge pack as distill's teacher: decode the image once (size caps, embedded prompt), run the M3
// rounds for the aspects asked, and hand back each aspect's level distribution, MOS and description.
import { createHash } from 'node:crypto';
import { agiqaError } from '../errors/index.js';
import { decodeImage, type ImageLimits } from '../image/index.js';
import { ASPECTS, LEVELS, type Aspect } from '../model/aspects.js';
import type { LoadedPack } from '../model/packs.js';
import { judgeWithPack } from '../scoring/judge/judge-scorer.js';
import type { Teacher, TeacherAnswer } from './teacher-labels.js';

/** Throws AGQ_ERR_PACK_INVALID unless the pack is a judge pack. */
export function judgeTeacher(pack: LoadedPack, options: { limits?: ImageLimits | undefined } = {}): Teacher {
  const input = pack.manifest.input;
  if (input.kind !== 'judge') {
    throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: pack.manifest.name, issues: [`input.kind is ${input.kind}; --teacher takes a judge pack (agiqa models add NAME --judge-url URL --judge-model MODEL)`] });
  }
  // what changes the answers besides the model: the round texts, decoding, image size, level forms (not the URL)
  const promptVersion = createHash('sha256')
    .update(JSON.stringify({ rounds: input.rounds, decoding: input.decoding, image: input.image, levelForms: input.levelForms }))
    .digest('hex')
    .slice(0, 16);
  return {
    model: input.server.model,
    promptVersion,
    aspects: pack.manifest.aspects.filter((a) => ASPECTS.includes(a)),
    async judge({ image, name, prompt, aspects }) {
      const decoded = await decodeImage(image, name, options.limits);
      const verdict = await judgeWithPack(pack, decoded, prompt ?? decoded.metadata.prompt ?? null, { aspects, limits: options.limits });
      const out: Partial<Record<Aspect, TeacherAnswer>> = {};
      for (const aspect of aspects) {
        const judged = verdict[aspect];
        if (judged.mos === null) {
          out[aspect] = { mos: null, probabilities: null, levelIndex: null, description: judged.description, reason: judged.reason };
          continue;
        }
        const wordOnly = judged.flags.includes('word-only');
        out[aspect] = {
          mos: judged.mos,
          probabilities: wordOnly ? null : LEVELS.map((l) => judged.probabilities[l]),
          levelIndex: LEVELS.indexOf(judged.level),
          description: judged.description,
        };
      }
      return out;
    },
    async close() {},
  };
}
