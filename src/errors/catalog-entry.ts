// The shape of one catalog entry, shared by the catalog's files.

export interface ErrorEntry<P> {
  /** HTTP status the server answers with. */
  status: number;
  /** What was wrong, in the user's words, built from the throw site's facts. */
  message: (params: P) => string;
  /** What the user can do about it; shown in docs/errors.md and in CLI hints. */
  howToSolve: string;
}

export function entry<P>(status: number, message: (params: P) => string, howToSolve: string): ErrorEntry<P> {
  return { status, message, howToSolve };
}
