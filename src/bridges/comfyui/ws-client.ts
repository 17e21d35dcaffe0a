// The WebSocket side of the bridge: one socket to ComfyUI's /ws under the bridge's own client id,
// reopened with capped exponential backoff and full jitter whenever it closes (ComfyUI down at start,
// restarted, network drop). ComfyUI being down is a state, not an error.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { parseBinaryFrame, parseTextFrame, type BinaryFrame, type ConsumedFrame } from './protocol.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Random source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): full jitter over an exponentially growing cap,
 * so several bridges (or a bridge and the browser) do not hammer a restarting ComfyUI in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const cap = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 30));
  const random = options.random ?? Math.random;
  // Never 0: half the cap is fixed, half is jitter.
  return Math.round(cap / 2 + random() * (cap / 2));
}

export interface ComfySocketEvents {
  open: [];
  frame: [ConsumedFrame];
  binary: [BinaryFrame];
  /** A text frame with a known type but a shape we did not understand. */
  invalid: [{ type: string | null; problem: string }];
  close: [{ code: number; reason: string; reconnectInMs: number | null }];
  /** A failed connection attempt (refused, timeout); the client retries by itself. */
  unreachable: [{ detail: string; attempt: number; reconnectInMs: number }];
}

export interface ComfySocketOptions extends Partial<BackoffOptions> {
  /** Gives up a connection attempt that has not opened after this long. */
  connectTimeoutMs?: number;
  /**
   * Pings this often; a socket that has not answered the previous ping is dropped and reopened. Without
   * it a half-open connection (a peer that slept or vanished) would look connected forever.
   */
  heartbeatMs?: number;
}

export class ComfySocket extends EventEmitter<ComfySocketEvents> {
  private socket: WebSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private stopped = true;
  private readonly backoff: BackoffOptions;
  private readonly connectTimeoutMs: number;
  private readonly heartbeatMs: number;

  constructor(
    readonly wsUrl: string,
    options: ComfySocketOptions = {},
  ) {
    super();
    this.backoff = { initialMs: options.initialMs ?? 250, maxMs: options.maxMs ?? 10_000, random: options.random };
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.heartbeatMs = options.heartbeatMs ?? 30_000;
  }

  /** Builds ComfyUI's socket address from its HTTP origin. */
  static urlFor(httpOrigin: string, clientId: string): string {
    const url = new URL('/ws', httpOrigin);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('clientId', clientId);
    return url.toString();
  }

  get connected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new WebSocket(this.wsUrl, { handshakeTimeout: this.connectTimeoutMs, perMessageDeflate: false });
    this.socket = socket;
    let opened = false;
    let heartbeat: NodeJS.Timeout | null = null;
    let answered = true;
    socket.on('open', () => {
      opened = true;
      this.attempt = 0;
      heartbeat = setInterval(() => {
        if (!answered) {
          socket.terminate();
          return;
        }
        answered = false;
        socket.ping();
      }, this.heartbeatMs);
      heartbeat.unref();
      this.emit('open');
    });
    socket.on('pong', () => {
      answered = true;
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        this.emit('binary', parseBinaryFrame(bytes));
        return;
      }
      const parsed = parseTextFrame(data.toString());
      if (parsed.kind === 'consumed') this.emit('frame', parsed.frame);
      else if (parsed.kind === 'invalid') this.emit('invalid', { type: parsed.type, problem: parsed.problem });
    });
    // 'error' always precedes 'close' for failed sockets; the close handler schedules the retry.
    let failure = '';
    socket.on('error', (error) => {
      failure = error.message;
    });
    socket.on('close', (code, reason) => {
      if (heartbeat !== null) clearInterval(heartbeat);
      if (this.socket === socket) this.socket = null;
      const delay = this.stopped ? null : backoffDelay(this.attempt, this.backoff);
      if (opened) this.emit('close', { code, reason: reason.toString(), reconnectInMs: delay });
      else if (delay !== null) this.emit('unreachable', { detail: failure || `closed with ${code}`, attempt: this.attempt, reconnectInMs: delay });
      if (delay === null) return;
      this.attempt += 1;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, delay);
    });
  }

  /** Closes the socket and stops reconnecting; resolves once the socket is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    if (socket === null || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000, 'agiqa bridge stopping');
      // A peer that never answers the close handshake must not hold shutdown.
      setTimeout(() => socket.terminate(), 1_000).unref();
    });
  }
}
