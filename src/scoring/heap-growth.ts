// V8's heap growth for a process that scores images. Each image brings megabyte buffers (the upload, the
// decoded pixels) that V8 counts as external memory; under steady load its adaptive heap growing factor
// falls towards its minimum (slow collections, busy cores), the old-generation limit ends a few MB above
// the live heap, and full collections follow every few images: measured at 4 clients on 2 cores, one
// full collection per ~7 images on the server's main thread and 13 ms of concurrent-marking CPU per image
// (docs/server.md, "Where the server's CPU goes"). A fixed growing factor keeps the limit well above the
// live heap (tens of MB of JavaScript objects), so buffers are collected by the cheap young-generation
// collections instead. V8 flags are per process: the main thread and every worker get it.
import { setFlagsFromString } from 'node:v8';

/** `off` (or 0, false, no) leaves V8's adaptive factor alone. */
export const HEAP_GROWTH_ENV = 'AGIQA_GC_TUNING';

/** The heap grows by this percentage past the live heap before the next full collection (factor 3). */
export const HEAP_GROWING_PERCENT = 200;

/** The V8 flag to set, or null when the environment opts out. */
export function heapGrowthFlag(env: NodeJS.ProcessEnv): string | null {
  if (/^(off|0|false|no)$/i.test(env[HEAP_GROWTH_ENV] ?? '')) return null;
  return `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
}

let applied = false;

/**
 * Sets the heap growing factor for this process (once; before worker threads start, so that they are
 * created under it). Returns whether it is set.
 */
export function tuneHeapGrowth(env: NodeJS.ProcessEnv = process.env): boolean {
  if (applied) return true;
  const flag = heapGrowthFlag(env);
  if (flag === null) return false;
  setFlagsFromString(flag);
  applied = true;
  return true;
}
