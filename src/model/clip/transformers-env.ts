// transformers.js reads its settings (local model folder, remote host, cache, fetch) from one global
// `env`. Loads and pulls that set it take turns here, so that two packs loading at once in the same
// thread cannot read each other's folder.
let queue: Promise<unknown> = Promise.resolve();

/** Runs `task` after every earlier one has settled; its result or error is passed through. */
export function withTransformersEnv<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}
