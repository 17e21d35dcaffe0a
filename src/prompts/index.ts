// Prompt recovery from generation-UI metadata (ComfyUI graphs, A1111/Forge parameters, InvokeAI JSON),
// and the plain text of a prompt written in those UIs' syntax.
export {
  extractComfyPrompts,
  isComfyGraph,
  PROMPT_JOINER,
  type ComfyGraph,
  type ComfyNode,
  type ComfyPromptPart,
  type ComfyPrompts,
  type ComfyWalkLimits,
  type PromptRole,
} from './comfy-graph.js';
export { comfyWorkflowToGraph } from './comfy-workflow.js';
export { parseA1111Parameters, type A1111Parameters } from './a1111.js';
export { parseInvokeAIDream, parseInvokeAIMetadata, parseInvokeAILegacyMetadata, type PromptPair } from './invokeai.js';
export { PROMPT_TEXT_KEYS, recoverPrompt, type PromptSource, type RecoveredPrompt } from './embedded.js';
export { MAX_GRAPH_NODE_VISITS, MAX_GRAPH_TEXT_CHARS, MAX_PARAMETERS_CHARS } from './limits.js';
export { plainPromptText } from './plain-text.js';
export { parseObjectPrompt, type ObjectPrompt, type ObjectRequest, type Relation } from './object-checks.js';
export { BASIC_COLOURS, COCO_CLASSES, type BasicColour, type CocoClass } from './coco-vocabulary.js';
export { generationParams, promptKey, type GenerationParams } from './generation-params.js';
