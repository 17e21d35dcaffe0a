// Errors of the tfjs→ONNX converter. This is a developer tool, not part of the shipped CLI, so its
// errors stay out of the user-facing catalog in src/errors; they still carry a stable code.

export type ConversionErrorCode =
  | 'TFJS_TO_ONNX_UNSUPPORTED_LAYER'
  | 'TFJS_TO_ONNX_UNSUPPORTED_OPTION'
  | 'TFJS_TO_ONNX_BAD_MODEL'
  | 'TFJS_TO_ONNX_BAD_WEIGHTS'
  | 'TFJS_TO_ONNX_SOURCE_NOT_FOUND';

export class ConversionError extends Error {
  override readonly name = 'ConversionError';
  constructor(
    readonly code: ConversionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} [${code}]`, options);
  }
}
