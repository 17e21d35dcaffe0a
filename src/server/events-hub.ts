// The WebSocket event stream /v1/events: every stored score and verdict as JSON. A client that
// connects with ?since=<id> first gets what it missed from the events table, then live events;
// events published during the replay are held back and sent after it, in id order, never twice.
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Store, StoredEvent } from '../store/index.js';

/** A client whose socket buffers more than this is too slow to follow; it is closed and may resume. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const REPLAY_PAGE = 500;
const HEARTBEAT_MS = 30_000;

interface Subscriber {
  socket: WebSocket;
  lastSentId: number;
  /** Live events that arrived while the replay was still running. */
  held: StoredEvent[] | null;
  alive: boolean;
}

export class EventsHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
  ) {
    // Pings find dead peers (a laptop that slept) so their buffers do not grow forever.
    this.heartbeat = setInterval(() => this.ping(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** Starts streaming to `socket`: replays events after `since` when given, then live ones. */
  async attach(socket: WebSocket, since: number | null): Promise<void> {
    const subscriber: Subscriber = { socket, lastSentId: since ?? 0, held: since === null ? null : [], alive: true };
    this.subscribers.add(subscriber);
    socket.on('close', () => this.subscribers.delete(subscriber));
    socket.on('pong', () => {
      subscriber.alive = true;
    });
    socket.on('error', (error) => this.logger.debug({ err: error }, 'event stream socket error'));
    if (since !== null) {
      try {
        for (;;) {
          const page = await this.store.eventsSince(subscriber.lastSentId, REPLAY_PAGE);
          for (const event of page) this.send(subscriber, event);
          if (page.length < REPLAY_PAGE || socket.readyState !== WebSocket.OPEN) break;
        }
      } catch (error) {
        this.logger.warn({ err: error }, 'event stream replay failed');
        socket.close(1011, 'replay failed: the database is unavailable');
        return;
      }
      const held = subscriber.held ?? [];
      subscriber.held = null;
      for (const event of held) this.send(subscriber, event);
    }
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'stream.ready', lastId: subscriber.lastSentId }));
  }

  /** Sends newly stored events to every subscriber (held back for those still replaying). */
  publish(events: StoredEvent[]): void {
    for (const subscriber of this.subscribers) {
      for (const event of events) {
        if (subscriber.held !== null) subscriber.held.push(event);
        else this.send(subscriber, event);
      }
    }
  }

  private send(subscriber: Subscriber, event: StoredEvent): void {
    // The replay and the held events can overlap: the id is the cursor, so duplicates are dropped.
    if (event.id <= subscriber.lastSentId || subscriber.socket.readyState !== WebSocket.OPEN) return;
    if (subscriber.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      subscriber.socket.close(1013, 'too slow: reconnect with ?since=<last id>');
      return;
    }
    subscriber.lastSentId = event.id;
    subscriber.socket.send(JSON.stringify(event));
  }

  private ping(): void {
    for (const subscriber of this.subscribers) {
      if (!subscriber.alive) {
        subscriber.socket.terminate();
        continue;
      }
      subscriber.alive = false;
      subscriber.socket.ping();
    }
  }

  /** Closes every stream with 1001 (going away); clients reconnect with their cursor. */
  close(): void {
    clearInterval(this.heartbeat);
    for (const subscriber of this.subscribers) subscriber.socket.close(1001, 'server shutting down');
    this.subscribers.clear();
  }
}
