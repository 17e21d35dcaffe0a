// Persistence: generations, scores, verdicts, lineage and the event log (SQLite, WAL, migrations).
export { Store, type NewGeneration, type ExternalIds, type PackId, type StoredEvent, type StoredScore, type SavedScore, type GenerationView, type GenerationFilter, type StoreHealth, type StoreOptions, type PromptSource } from './store.js';
export { MIGRATIONS, LATEST_SCHEMA_VERSION, type Migration } from './migrations.js';
export { ComfyRecords, type ComfyFileRef, type ComfyOutputRecord, type StoredComfyOutput, type ComfyPromptLineage, type ComfyRankedOutput } from './comfyui-records.js';
export { DashboardQueries, FEED_SORTS, type FeedFilter, type FeedItem, type FeedSort, type GenerationParamsRecord } from './dashboard-queries.js';
