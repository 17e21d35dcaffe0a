// The single error class of the project: a stable code from the catalog, an HTTP status, and the cause.
import { errorCatalog, type ErrorCode, type ErrorParams } from './catalog.js';

export class AgiqaError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgiqaError';
    this.code = code;
    this.status = errorCatalog[code].status;
    this.details = options.details;
  }

  get howToSolve(): string {
    return errorCatalog[this.code].howToSolve;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Builds the catalogued error `code`, its message filled from `params`. */
export function agiqaError<C extends ErrorCode>(
  code: C,
  params: ErrorParams<C>,
  options: { cause?: unknown; details?: unknown } = {},
): AgiqaError {
  const template = errorCatalog[code].message as (p: ErrorParams<C>) => string;
  return new AgiqaError(code, template(params), options);
}

export function isAgiqaError(value: unknown): value is AgiqaError {
  return value instanceof AgiqaError;
}
