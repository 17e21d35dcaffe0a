// The one score → judge → store → publish pipeline every entrance calls, and its admission control.
export { ScoringPipeline, type ScoringPipelineOptions, type ScorerState, type BatchOptions } from './scoring-pipeline.js';
export { Admission, type AdmissionOptions, type AdmissionTicket, type Release } from './admission.js';
export { imageSha256 } from './hash.js';
export { EarlyScores, type EarlyScore } from './early-scores.js';
export type { BatchItem, GenerationMetadata, PipelineImage, PipelineMetrics, RankedImage, RankOutcome, RawPixelsLayout, ScoredImage, ThumbnailSink } from './types.js';
