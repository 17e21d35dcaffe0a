// Work budgets of the prompt readers: metadata is written by strangers, so every reader stops after a
// fixed amount of work and reports why, instead of spinning on a crafted graph or text.

/** Graph nodes a ComfyUI prompt walk may enter; real graphs have hundreds, each entered a few times. */
export const MAX_GRAPH_NODE_VISITS = 20_000;

/**
 * Characters a ComfyUI prompt walk may assemble (concatenated text and the prompts found); real prompts
 * are a few thousand characters, and a chain of string-concat nodes can otherwise double its text per node.
 */
export const MAX_GRAPH_TEXT_CHARS = 1024 * 1024;

/** Characters of one A1111 `parameters` text, InvokeAI entry or `Dream` line the readers parse. */
export const MAX_PARAMETERS_CHARS = 256 * 1024;

/** Thrown inside a reader when its budget runs out; caught by the reader, never seen by callers. */
export class PromptBudgetExceeded extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Nesting of objects/arrays a metadata JSON may have; ComfyUI graphs and workflows nest under ten. */
export const MAX_JSON_DEPTH = 64;
