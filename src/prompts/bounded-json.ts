// JSON.parse for metadata written by strangers: V8 parses deep nesting without overflowing, but half a
// million `[` in a 2 MB chunk still allocate half a million arrays (+100 MB). Real graphs nest a few
// levels, so the nesting is measured in one linear pass first and deep text is refused unparsed.
import { MAX_JSON_DEPTH } from './limits.js';

/** The deepest nesting of objects/arrays in `text`, stopping as soon as it passes `max`. Linear. */
function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

export type BoundedJson = { ok: true; value: unknown } | { ok: false; problem: string | null };

/**
 * Parses `text` (called `what` in the problem) unless it nests deeper than `maxDepth`. Not JSON →
 * `{ ok: false, problem: null }` (not an error: the text is just not this format); too deep → a problem.
 * Never throws.
 */
export function parseBoundedJson(text: string, what: string, maxDepth: number = MAX_JSON_DEPTH): BoundedJson {
  if (nestingExceeds(text, maxDepth)) return { ok: false, problem: `the ${what} JSON nests deeper than ${maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, problem: null };
  }
}
