export { AgiqaError, agiqaError, isAgiqaError } from './agiqa-error.js';
export { errorCatalog, type ErrorCode, type ErrorParams } from './catalog.js';
export { zodIssues } from './zod-issues.js';
