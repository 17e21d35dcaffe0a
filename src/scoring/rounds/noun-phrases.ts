// A small rule-based chunker: splits a generation prompt into the noun phrases it asks for, so the
// correspondence round can score each and name the one that is missing. Rules, not a parser: prompts
// are tag lists and short clauses, and the chunker must run on any language without a model.
// English function words split and trim chunks; other scripts are split at punctuation only.
// It reads plain text: UI syntax (weights, <lora:…> tags, BREAK) is removed before, by plainPromptText.

const BREAK_WORDS = new Set(
  (
    'and or but nor with without on in at of under over near behind beside besides next to from by into onto upon above below ' +
    'beneath underneath while holding wearing sitting standing lying walking running flying looking is are was were be being been ' +
    'has have had that which who whom whose where when for against through across between among around during as like than ' +
    'inside outside along toward towards via'
  ).split(' '),
);
const EDGE_WORDS = new Set(
  'a an the this that these those some any his her their its my our your very really quite so much many lots lot'.split(' '),
);

const SEGMENT_BREAK = /[,;.:!?|/\\\n\r\t()[\]{}"“”«»、，。；：！？・]+|\s-{2,}\s/u;
const WORD = /[\p{L}\p{M}\p{N}\p{Extended_Pictographic}'’-]+/gu;
// A run of more words than this is no noun phrase (a sentence, or a pasted list): cut into pieces.
const MAX_PHRASE_WORDS = 6;
// Scripts written without spaces give one "word" per clause; keep phrases short enough to name.
const MAX_PHRASE_CHARS = 60;

export interface NounPhrase {
  /** The phrase as written in the prompt, e.g. "red umbrella". */
  text: string;
}

export interface ChunkOptions {
  maxPhrases: number;
  /** Quality tags and other boilerplate (case-insensitive), dropped when a phrase is made of them only. */
  ignoreTerms: readonly string[];
}

function splitAtBreakWords(words: string[]): string[][] {
  const chunks: string[][] = [[]];
  for (const word of words) {
    if (BREAK_WORDS.has(word.toLowerCase())) chunks.push([]);
    else chunks[chunks.length - 1]!.push(word);
  }
  return chunks;
}

function trimEdges(words: string[]): string[] {
  let start = 0;
  let end = words.length;
  while (start < end && EDGE_WORDS.has(words[start]!.toLowerCase())) start++;
  while (end > start && EDGE_WORDS.has(words[end - 1]!.toLowerCase())) end--;
  return words.slice(start, end);
}

/**
 * The noun phrases of a plain-text prompt (see plainPromptText) in prompt order, without duplicates,
 * at most `maxPhrases`.
 */
export function nounPhrases(prompt: string, options: ChunkOptions): NounPhrase[] {
  const ignore = new Set(options.ignoreTerms.map((t) => t.toLowerCase()));
  const ignoreWords = new Set([...ignore].filter((t) => !t.includes(' ')));
  const normalized = prompt.normalize('NFC');
  const seen = new Set<string>();
  const phrases: NounPhrase[] = [];
  for (const segment of normalized.split(SEGMENT_BREAK)) {
    const words = segment.match(WORD) ?? [];
    for (const chunk of splitAtBreakWords(words)) {
      const kept = trimEdges(chunk).filter((w) => !/^[-'’]+$/.test(w));
      for (let start = 0; start < kept.length; start += MAX_PHRASE_WORDS) {
        const words = kept.slice(start, start + MAX_PHRASE_WORDS);
        const text = [...words.join(' ')].slice(0, MAX_PHRASE_CHARS).join('');
        const key = text.toLowerCase();
        if (ignore.has(key) || words.every((w) => ignoreWords.has(w.toLowerCase()) || /^\d+[kK]?$/.test(w))) continue;
        if (seen.has(key)) continue;
        seen.add(key);
        phrases.push({ text });
        if (phrases.length >= options.maxPhrases) return phrases;
      }
    }
  }
  return phrases;
}
