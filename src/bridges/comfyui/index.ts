// The ComfyUI bridge: watches ComfyUI instances, scores every output, feeds verdicts back.
export { ComfyBridge, type ComfyBridgeOptions, type BridgeStats } from './bridge.js';
export { ComfyHttp, normaliseComfyUrl, isTransient } from './http-client.js';
export { ComfySocket, backoffDelay, type BackoffOptions } from './ws-client.js';
export { parseTextFrame, parseBinaryFrame, outputImages, type ConsumedFrame, type HistoryEntry, type OutputImage } from './protocol.js';
export { reseedGraph, SEED_INPUTS, type SeedChange } from './regeneration.js';
export { quarantineFile, QUARANTINE_FOLDER, MOVES_LOG } from './quarantine.js';
export { promptRanking, promptRankingSchema, type PromptRanking } from './rerank.js';
export { verdictPush, type VerdictPush } from './feedback.js';
export { comfyRouter } from './routes.js';
export { silentLogger, type BridgeLogger } from './logger.js';
export { startComfyBridges, type ComfyBridgesOptions, type RunningBridges } from './start.js';
