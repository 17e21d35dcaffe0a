// Turns a zod failure into one readable line per problem, so every bad field is reported at once.
import type { ZodError } from 'zod';

export function zodIssues(error: ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}
