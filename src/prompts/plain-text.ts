// Turns a prompt written in a generation UI's syntax (A1111/Forge, ComfyUI, Dynamic Prompts) into the
// plain text a vision-language encoder should read: the words in their order, without weights,
// brackets, network tags or keywords, and with each choice resolved the way the final image shows it.
// A tolerant single pass instead of a grammar: prompts in the wild are often malformed, and a
// half-understood prompt must still give its words rather than an error.

/** Characters a backslash makes literal in A1111, ComfyUI and Dynamic Prompts. */
const ESCAPABLE = new Set(['(', ')', '[', ']', '{', '}', '|', ':', '\\', '<', '>']);
const CLOSER_OF = { '(': ')', '[': ']', '{': '}' } as const;
type Opener = keyof typeof CLOSER_OF;
type Closer = (typeof CLOSER_OF)[Opener];
/** What splits a group's body: `(text:weight)`, `[from:to:when]` / `[a|b]`, `{a|b}`. */
const SEPARATORS: Record<Closer, string> = { ')': ':', ']': ':|', '}': '|' };
// Deeper groups are unheard of in real prompts; past this depth brackets are dropped, so a pasted
// `((((…` of any length cannot exhaust the stack.
const MAX_DEPTH = 64;
// Marks a group's edges: it becomes a space only between two word characters, because the UIs
// tokenize a group apart from its neighbours (`(red)dish` is read as "red dish").
const GROUP_EDGE = '\uE000';

// A1111 extra networks (`<lora:name:0.8>`, `<hypernet:…>`, `<lyco:…>`): removed before anything else,
// as A1111 does; the text model never sees them.
const EXTRA_NETWORK = /(?<!\\)<\w+:[^<>\n]*>/g;
// ComfyUI textual-inversion references; the name runs to whitespace, punctuation or a weight's colon.
const EMBEDDING = /(?<![\p{L}\p{N}_])embedding:[^\s,()[\]{}<>|:\\]+/gu;
// Dynamic Prompts / Impact Pack wildcard files (`__colors__`, `__people/job__`): unresolvable here.
// The name stops at the first `__`, so a failed start is never rescanned from later starts (linear).
const WILDCARD = /(?<![\p{L}\p{N}_])__[\p{L}\p{N}*](?:[\p{L}\p{N}./*-]|_(?!_))*__(?![\p{L}\p{N}_])/gu;
// A1111 composable diffusion: sub-prompts joined by AND, each with an optional trailing `:weight`.
// Patterns here never start with `\s*` or put two quantifiers over the same characters side by side:
// on a long run of spaces or digits such patterns backtrack quadratically (seconds at 40 k characters).
const AND = /\bAND\b/;
const WEIGHT = /^[+-]?(?:\d+\.?|\d*\.\d+)$/;
// A1111 BREAK starts a new 75-token chunk: a separator between parts of the prompt (spaces around it
// are tidied away later).
const BREAK = /\bBREAK\b/g;
// Lark's SIGNED_NUMBER, which A1111 accepts for weights and `when`; matched on trimmed text.
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
// Dynamic Prompts variant options: `{2$$a|b}`, `{1-3$$ and $$a|b}` (count and separator), `{0.5::a|b}`;
// matched on text with its leading spaces trimmed.
const VARIANT_BOUND = /^(\d*)(?:\s*-\s*(\d*))?\s*\$\$(?:([^$]*)\$\$)?/;

interface Group {
  /** The body split at the group's separators, nested groups already resolved. */
  parts: string[];
  separators: string[];
  /** False when the input ended (or an outer group closed) before this group's closing bracket. */
  closed: boolean;
}

function isNumber(text: string): boolean {
  return NUMBER.test(text.trim());
}

/** Drops a Dynamic Prompts option weight (`0.5::a` → `a`); the number is scanned by hand. */
function withoutVariantWeight(option: string): string {
  const text = option.trimStart();
  let end = 0;
  let dots = 0;
  while (end < text.length && ((text[end]! >= '0' && text[end]! <= '9') || text[end] === '.')) {
    if (text[end] === '.') dots++;
    end++;
  }
  if (end === 0 || dots > 1 || text[end - 1] === '.') return option;
  const rest = text.slice(end).trimStart();
  return rest.startsWith('::') ? rest.slice(2) : option;
}

/** Splits `text:weight` at its last colon when what follows is a number; null when there is no weight. */
function trailingWeight(text: string): { text: string; weight: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon === -1) return null;
  const weight = text.slice(colon + 1).trim();
  return WEIGHT.test(weight) ? { text: text.slice(0, colon).trimEnd(), weight: Number(weight) } : null;
}

function rejoin(group: Group): string {
  return group.parts.reduce((text, part, i) => (i === 0 ? part : text + group.separators[i - 1]! + part), '');
}

/** `(text)` and `(text:1.2)` → text; a colon not followed by a number is part of the text. */
function resolveEmphasis(group: Group): string {
  const last = group.parts.length - 1;
  if (!group.closed || last === 0 || !isNumber(group.parts[last]!)) return rejoin(group);
  return rejoin({ parts: group.parts.slice(0, last), separators: group.separators.slice(0, last - 1), closed: true });
}

/**
 * `[a|b]` alternation → the first option; `[from:to:when]`, `[to:when]`, `[from::when]` prompt editing
 * → the `to` side, as the last steps (and so the final image) show it; `[text]` → text.
 */
function resolveSquare(group: Group): string {
  if (!group.closed) return rejoin(group);
  const firstBar = group.separators.indexOf('|');
  if (firstBar !== -1) {
    return rejoin({ parts: group.parts.slice(0, firstBar + 1), separators: group.separators.slice(0, firstBar), closed: true });
  }
  const { parts } = group;
  if (parts.length === 3 && isNumber(parts[2]!)) return parts[1]!;
  if (parts.length === 2 && isNumber(parts[1]!)) return parts[0]!;
  return rejoin(group);
}

/** `{a|b}` → the first option; `{2$$a|b|c}` → the first two, joined as Dynamic Prompts joins them. */
function resolveVariants(group: Group): string {
  if (!group.closed) return rejoin(group);
  const options = [...group.parts];
  let count = 1;
  let joiner = ', ';
  const first = options[0]!.trimStart();
  const bound = VARIANT_BOUND.exec(first);
  if (bound !== null) {
    options[0] = first.slice(bound[0].length);
    const low = bound[1] === '' ? 1 : Number(bound[1]);
    count = Math.min(options.length, Math.max(1, low));
    if (bound[3] !== undefined) joiner = bound[3];
  }
  return options
    .slice(0, count)
    .map(withoutVariantWeight)
    .join(joiner);
}

const RESOLVE: Record<Opener, (group: Group) => string> = { '(': resolveEmphasis, '[': resolveSquare, '{': resolveVariants };

class BracketParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  /** Reads up to `closer` (or the end); `open` lists the closers of the groups around this one. */
  group(closer: Closer | null, open: readonly Closer[]): Group {
    const { text } = this;
    const parts = [''];
    const separators: string[] = [];
    const append = (s: string): void => {
      parts[parts.length - 1] += s;
    };
    while (this.pos < text.length) {
      const ch = text[this.pos]!;
      if (ch === '\\' && this.pos + 1 < text.length && ESCAPABLE.has(text[this.pos + 1]!)) {
        append(text[this.pos + 1]!);
        this.pos += 2;
        continue;
      }
      if (ch === '(' || ch === '[' || ch === '{') {
        this.pos++;
        if (open.length >= MAX_DEPTH) continue;
        const inner = this.group(CLOSER_OF[ch], [...open, CLOSER_OF[ch]]);
        append(GROUP_EDGE + RESOLVE[ch](inner) + GROUP_EDGE);
        continue;
      }
      if (ch === ')' || ch === ']' || ch === '}') {
        if (ch === closer) {
          this.pos++;
          return { parts, separators, closed: true };
        }
        // An outer group's bracket ends this one too; a bracket that closes nothing is dropped.
        if (open.includes(ch)) return { parts, separators, closed: false };
        this.pos++;
        continue;
      }
      if (closer !== null && SEPARATORS[closer].includes(ch)) {
        parts.push('');
        separators.push(ch);
        this.pos++;
        continue;
      }
      append(ch);
      this.pos++;
    }
    return { parts, separators, closed: closer === null };
  }
}

function plainSubPrompt(text: string): string {
  return rejoin(new BracketParser(text).group(null, []));
}

/** Splits at AND; a sub-prompt weighted 0 or less pushes its content away, so it is left out. */
function subPrompts(text: string): string[] {
  const parts = text.split(AND);
  if (parts.length === 1) return parts;
  const weighted = parts.map((part) => trailingWeight(part) ?? { text: part, weight: 1 });
  const shown = weighted.filter((p) => p.weight > 0);
  return (shown.length > 0 ? shown : weighted).map((p) => p.text);
}

function tidy(text: string): string {
  return text
    .replace(/(?<=[\p{L}\p{N}])\uE000+(?=[\p{L}\p{N}])/gu, ' ')
    .replaceAll(GROUP_EDGE, '')
    .split('\n')
    .map((line) =>
      line
        .replace(/[^\S\n]+/g, ' ')
        .replace(/ ?,(?: ?,)+ ?/g, ', ')
        .replace(/ ,/g, ',')
        .replace(/^[\s,]+|[\s,]+$/g, ''),
    )
    .filter((line) => line !== '')
    .join('\n');
}

/**
 * The plain text of a generation UI's prompt, for a text encoder and the noun-phrase chunker:
 * A1111/Forge emphasis `(word:1.2)`, `((word))`, `[word]` and ComfyUI weights keep their words;
 * prompt editing `[from:to:when]` gives `to`; alternation `[a|b]` and Dynamic Prompts `{a|b}` give the
 * first option; `<lora:…>`/`<hypernet:…>` tags, ComfyUI `embedding:name`, `__wildcard__` files and
 * AND weights go; BREAK becomes a comma; `\(` becomes `(`. Unbalanced brackets are dropped and their
 * text kept. Plain text comes back unchanged apart from whitespace and empty list items. Never throws.
 */
export function plainPromptText(prompt: string): string {
  const text = prompt
    .replaceAll(GROUP_EDGE, '')
    .replace(/\r\n?/g, '\n')
    .replace(EXTRA_NETWORK, ' ')
    .replace(EMBEDDING, ' ')
    .replace(WILDCARD, ' ');
  const joined = subPrompts(text)
    .map((part) => plainSubPrompt(part))
    .filter((part) => part.replaceAll(GROUP_EDGE, '').trim() !== '')
    .join(' and ');
  return tidy(joined.replace(BREAK, ', '));
}
