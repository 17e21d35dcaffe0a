// The logging surface the bridge needs: pino's `(object, message)` call shape, so the server passes its
// pino logger and tests pass a recorder.
export type LogFields = Record<string, unknown>;

export interface BridgeLogger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

export const silentLogger: BridgeLogger = { debug() {}, info() {}, warn() {}, error() {} };
