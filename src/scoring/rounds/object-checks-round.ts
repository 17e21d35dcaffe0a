// Correspondence from object checks (after GenEval): each object the prompt asks for is looked up
// among the detector's boxes — present, in the asked number, in the asked colour, in the asked place
// relative to another — and the fraction of checks that pass maps onto the five levels. Findings
// name each failure in the prompt's terms ("asked for 3 dogs, found 1").
import { COCO_CLASSES, type ObjectPrompt, type ObjectRequest, type Relation } from '../../prompts/index.js';
import type { BoxColour } from '../../signals/index.js';
import type { Finding } from '../score-result.js';
import { logitsAroundMos } from './level-logits.js';
import type { RoundOutput } from './round.js';

/** A detector box with its COCO class name. */
export interface LabelledBox {
  label: string;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export type CheckKind = 'present' | 'count' | 'colour' | 'position';

export interface ObjectCheck {
  kind: CheckKind;
  /** Index of the request in the parsed prompt. */
  request: number;
  passed: boolean;
  /** What was asked and what was seen, in words. */
  text: string;
}

export interface ObjectChecksOutcome {
  /** Null when the prompt has nothing the detector can check; `reason` says why. */
  round: RoundOutput | null;
  reason: string | null;
  checks: ObjectCheck[];
}

export interface ObjectChecksConfig {
  /** A box counts as the object at or above this score (0.25: the best present F1 on the generated detection set, docs/object-checks.md). */
  minScore: number;
  /** GenEval's margin: centres must differ by more than this fraction of the two boxes' sizes. */
  positionMargin: number;
  spread: number;
}

export const OBJECT_CHECKS_DEFAULTS: ObjectChecksConfig = { minScore: 0.25, positionMargin: 0.1, spread: 0.6 };

const UNCOUNTABLE = new Set(['sheep', 'skis', 'scissors', 'broccoli']);

/** "dogs", "people", "buses", "sheep". */
export function pluralOf(cocoClass: string): string {
  if (UNCOUNTABLE.has(cocoClass)) return cocoClass;
  if (cocoClass === 'person') return 'people';
  if (cocoClass === 'knife') return 'knives';
  return `${cocoClass}${/(s|x|ch|sh)$/.test(cocoClass) ? 'es' : 's'}`;
}

/** "3 dogs", "1 dog", "2 people". */
export function countOf(n: number, cocoClass: string): string {
  return `${n} ${n === 1 ? cocoClass : pluralOf(cocoClass)}`;
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

/**
 * GenEval's relative position of box A to box B: centre offset shrunk by `margin` × the boxes' summed
 * size per axis, then a direction counts when it carries more than half of the (unshrunk) offset.
 */
export function relativePosition(a: LabelledBox, b: LabelledBox, margin: number): Set<Relation> {
  const offset = [(a.x1 + a.x2) / 2 - (b.x1 + b.x2) / 2, (a.y1 + a.y2) / 2 - (b.y1 + b.y2) / 2] as const;
  const size = [a.x2 - a.x1 + (b.x2 - b.x1), a.y2 - a.y1 + (b.y2 - b.y1)] as const;
  const revised = offset.map((o, i) => Math.max(Math.abs(o) - margin * size[i]!, 0) * Math.sign(o));
  const relations = new Set<Relation>();
  if (revised.every((r) => Math.abs(r) < 1e-3)) return relations;
  const norm = Math.hypot(offset[0], offset[1]);
  const [dx, dy] = [revised[0]! / norm, revised[1]! / norm];
  if (dx < -0.5) relations.add('left of');
  if (dx > 0.5) relations.add('right of');
  if (dy < -0.5) relations.add('above');
  if (dy > 0.5) relations.add('below');
  return relations;
}

const satisfies = (found: Set<Relation>, asked: Relation) => (asked === 'next to' ? found.has('left of') || found.has('right of') : found.has(asked));

function describeRelations(found: Set<Relation>): string {
  return found.size === 0 ? 'on top of (overlapping)' : [...found].join(' and ');
}

/** Why a prompt without requests cannot be judged, naming what it asks for instead. */
export function nothingToCheck(prompt: ObjectPrompt): string {
  return prompt.notCheckable.length > 0
    ? `not judged: the prompt names nothing the detector knows (${prompt.notCheckable.slice(0, 5).map((p) => `'${p}'`).join(', ')} ${prompt.notCheckable.length === 1 ? 'is' : 'are'} outside its 80 COCO classes)`
    : 'not judged: the prompt names no object to check';
}

/**
 * Runs the checks of `prompt` on `boxes` (best first or in any order); `colourOf` names a box's colour.
 * Unknown class names in `boxes` are ignored.
 */
export function objectChecksRound(
  prompt: ObjectPrompt,
  boxes: readonly LabelledBox[],
  colourOf: (box: LabelledBox) => BoxColour,
  config: ObjectChecksConfig = OBJECT_CHECKS_DEFAULTS,
): ObjectChecksOutcome {
  if (prompt.requests.length === 0) return { round: null, reason: nothingToCheck(prompt), checks: [] };
  const byClass = new Map<string, LabelledBox[]>();
  for (const box of [...boxes].sort((a, b) => b.score - a.score)) {
    if (box.score < config.minScore || !(COCO_CLASSES as readonly string[]).includes(box.label)) continue;
    byClass.set(box.label, [...(byClass.get(box.label) ?? []), box]);
  }
  const checks: ObjectCheck[] = [];
  // GenEval judges colour and position on the most confident boxes, as many as were asked for.
  const chosen: (LabelledBox[] | null)[] = prompt.requests.map((r) => {
    const found = byClass.get(r.cocoClass) ?? [];
    return found.length > 0 ? found.slice(0, Math.max(1, r.count)) : null;
  });
  prompt.requests.forEach((r, i) => checks.push(...checksOf(r, i, byClass.get(r.cocoClass) ?? [], chosen, prompt.requests, colourOf, config)));

  const passed = checks.filter((c) => c.passed).length;
  const fraction = passed / checks.length;
  const mos = 0.5 + 4 * fraction;
  // A missing object fails its colour and position checks too; naming it once is enough.
  const absent = new Set(prompt.requests.flatMap((r, i) => (r.count > 0 && chosen[i] === null ? [i] : [])));
  const redundant = (c: ObjectCheck) =>
    (c.kind === 'colour' && absent.has(c.request)) || (c.kind === 'position' && (absent.has(c.request) || absent.has(prompt.requests[c.request]!.position!.target)));
  const findings: Finding[] = checks
    .filter((c) => !c.passed && !redundant(c))
    .map((c) => ({ aspect: 'correspondence' as const, code: `object-${c.kind}`, text: c.text, severity: c.kind === 'present' || c.kind === 'count' ? ('major' as const) : ('minor' as const) }));
  if (findings.length === 0) {
    findings.push({ aspect: 'correspondence', code: 'objects-match', text: `${checks.length === 1 ? 'the object check passes' : `all ${checks.length} object checks pass`} (${prompt.requests.map((r) => r.text).join(', ')})`, severity: 'info' });
  }
  if (prompt.notCheckable.length > 0) {
    findings.push({
      aspect: 'correspondence',
      code: 'objects-not-checkable',
      text: `not checkable (outside the detector's 80 classes): ${prompt.notCheckable.slice(0, 5).join(', ')}`,
      severity: 'info',
    });
  }
  return {
    round: { aspect: 'correspondence', logits: logitsAroundMos(mos, config.spread), mos, findings, evidence: [fraction, checks.length] },
    reason: null,
    checks,
  };
}

function checksOf(
  r: ObjectRequest,
  index: number,
  found: LabelledBox[],
  chosen: readonly (LabelledBox[] | null)[],
  requests: readonly ObjectRequest[],
  colourOf: (box: LabelledBox) => BoxColour,
  config: ObjectChecksConfig,
): ObjectCheck[] {
  const out: ObjectCheck[] = [];
  const name = r.cocoClass;
  if (r.count === 0) {
    const passed = found.length === 0;
    out.push({ kind: 'count', request: index, passed, text: passed ? `no ${name} found, as asked` : `asked for no ${pluralOf(name)}, found ${found.length}` });
    return out;
  }
  const countOk = r.exact ? found.length === r.count : found.length >= r.count;
  if (r.count === 1 && !r.exact) {
    out.push({ kind: 'present', request: index, passed: found.length > 0, text: found.length > 0 ? `${article(name)} ${name} found` : `no ${name} found` });
  } else {
    const asked = `${r.exact ? '' : 'at least '}${countOf(r.count, name)}`;
    out.push({ kind: 'count', request: index, passed: countOk, text: found.length === 0 ? `asked for ${asked}, no ${name} found` : `asked for ${asked}, found ${found.length}` });
  }
  const mine = chosen[index] ?? null;
  if (r.colour !== null) {
    if (mine === null) {
      out.push({ kind: 'colour', request: index, passed: false, text: `no ${name} found to judge as ${r.colour}` });
    } else {
      const colours = mine.map((b) => colourOf(b).colour);
      const matching = colours.filter((c) => c === r.colour).length;
      const passed = matching >= mine.length;
      const seen = [...new Set(colours)].join(' and ');
      out.push({
        kind: 'colour',
        request: index,
        passed,
        text: passed ? `the ${name} is ${r.colour}` : mine.length === 1 ? `asked for ${article(r.colour)} ${r.colour} ${name}, the ${name} looks ${seen}` : `asked for ${r.count} ${r.colour} ${pluralOf(name)}, found ${matching} ${r.colour} (seen: ${seen})`,
      });
    }
  }
  if (r.position !== null) {
    const target = requests[r.position.target]!;
    const targets = chosen[r.position.target] ?? null;
    const asked = r.position.relation;
    if (mine === null || targets === null) {
      const missing = mine === null ? name : target.cocoClass;
      out.push({ kind: 'position', request: index, passed: false, text: mine === null ? `no ${name} found to place ${asked} the ${target.cocoClass}` : `no ${missing} found to place the ${name} ${asked}` });
    } else {
      let wrong: Set<Relation> | null = null;
      for (const a of mine) for (const b of targets) if (wrong === null && !satisfies(relativePosition(a, b, config.positionMargin), asked)) wrong = relativePosition(a, b, config.positionMargin);
      out.push({
        kind: 'position',
        request: index,
        passed: wrong === null,
        text: wrong === null ? `the ${name} is ${asked} the ${target.cocoClass}` : `the ${name} is ${describeRelations(wrong)} the ${target.cocoClass}, asked ${asked}`,
      });
    }
  }
  return out;
}
