import { describe, expect, it } from 'vitest';
import { AgiqaError, agiqaError, isAgiqaError } from '../../src/errors/index.js';

describe('agiqaError', () => {
  it('fills the message template, the status and keeps the cause', () => {
    const cause = new Error('ENOENT');
    const error = agiqaError('AGQ_ERR_IMAGE_NOT_FOUND', { file: 'a.png' }, { cause });
    expect(error).toBeInstanceOf(AgiqaError);
    expect(error.code).toBe('AGQ_ERR_IMAGE_NOT_FOUND');
    expect(error.message).toBe('a.png: no such file or directory');
    expect(error.status).toBe(404);
    expect(error.cause).toBe(cause);
    expect(error.howToSolve).toMatch(/path/);
    expect(isAgiqaError(error)).toBe(true);
    expect(isAgiqaError(cause)).toBe(false);
  });

  it('serialises to the API error body without the cause', () => {
    const error = agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'body', issues: ['a: required', 'b: expected number'] }, { details: { n: 2 } });
    expect(error.toJSON()).toEqual({ code: 'AGQ_ERR_INVALID_INPUT', message: 'Invalid body: a: required; b: expected number', details: { n: 2 } });
  });
});
