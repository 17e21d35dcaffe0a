// A protocol-faithful ComfyUI stand-in: a real HTTP + WebSocket server on 127.0.0.1 that behaves as the
// recorded ComfyUI 0.3.64 did (test/fixtures/comfyui/): the submitter's frame sequence, `status` to every
// socket but run events only to the submitting client_id, execution_success before the history entry
// is written, binary previews, cached resubmissions repeating old file names, the recorded error bodies.
// Faults are scripted: restart (1006, history lost, connections refused), dropped sockets, reconnect
// without prompt_id, 404 on /view, 500 on /prompt, a held queue.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { WebSocketServer, type WebSocket } from 'ws';

const FIXTURES = new URL('../../fixtures/comfyui/', import.meta.url);
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
/** The recorded frames of one capture, text frames only, as [type, data]. */
export function recordedFrames(name: string): { type: string; data: Record<string, unknown> }[] {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { event: string; kind?: string; data?: { type: string; data: Record<string, unknown> } })
    .filter((line) => line.event === 'frame' && line.kind === 'text')
    .map((line) => line.data!);
}

const RECORDED_ERROR = recordedFrames('frames-runtime-error-submitter.jsonl').find((frame) => frame.type === 'execution_error')!.data;
const NOT_JSON = fixture<{ status: number; body: string }>('post-prompt-not-json.json');
const INVALID_NODE = fixture<{ body: { error: Record<string, unknown> } }>('post-prompt-invalid-node.json');
const NO_PROMPT = fixture<{ status: number; body: unknown }>('post-prompt-missing-prompt.json');
const OBJECT_INFO_SAVE = fixture<{ body: Record<string, unknown> }>('get-object_info-SaveImage.json').body;

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
type ImageRef = { filename: string; subfolder: string; type: string };

export interface ImageRequest {
  promptId: string;
  node: string;
  index: number;
  graph: Graph;
  filename: string;
}

export interface DoubleOptions {
  /** Makes the bytes of each output image (a PNG normally; anything to test decode failures). */
  makeImage: (request: ImageRequest) => Promise<Uint8Array> | Uint8Array;
  /** Serve POST /agiqa/verdict (the node pack's route); ComfyUI without the pack answers 404. */
  verdictRoute?: boolean;
}

interface QueueItem {
  number: number;
  promptId: string;
  graph: Graph;
  extraData: Record<string, unknown>;
  outputs: string[];
  clientId: string | null;
}

const OUTPUT_NODES = new Set(['SaveImage', 'PreviewImage', 'AGIQASaveWithScore']);
/** Output nodes that write into the output folder (type `output`); the others write temp previews. */
const SAVING_NODES = new Set(['SaveImage', 'AGIQASaveWithScore']);
const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustomAdvanced']);
// A tiny PNG for preview frames (the bytes are never decoded by the bridge).
const PREVIEW_PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

export interface DoubleEvents {
  /** A node starts executing. */
  node: [{ promptId: string; node: string }];
  /** A prompt's history entry was written (success or error). */
  finished: [{ promptId: string; status: string }];
}

export class ComfyDouble extends EventEmitter<DoubleEvents> {
  port = 0;
  private http: Server | null = null;
  private wss: WebSocketServer | null = null;
  private readonly sockets = new Map<string, WebSocket>();
  private readonly everySocket = new Set<WebSocket>();
  readonly history = new Map<string, Record<string, unknown>>();
  readonly files = new Map<string, Uint8Array>();
  private readonly queue: QueueItem[] = [];
  private running: { item: QueueItem; node: string | null } | null = null;
  private number = 0;
  private readonly fileCounters = new Map<string, number>();
  // ComfyUI's cache: an identical graph re-executes nothing and repeats its outputs.
  private readonly cache = new Map<string, Record<string, { images: ImageRef[] }>>();
  private readonly tempPrefix = `ComfyUI_temp_${Math.random().toString(36).slice(2, 7)}_`;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private epoch = 0;
  private workerBusy = false;
  /** Scripted faults. */
  readonly faults = { missingView: new Set<string>(), viewStatus: new Map<string, number>(), promptFailures: 0, refuseSockets: false };
  /** Every HTTP request, as "METHOD /path?query". */
  readonly requests: string[] = [];
  /** performance.now() when each prompt's execution_success was sent and its history entry written (benchmarks). */
  readonly timeline = new Map<string, { success?: number; finished?: number }>();
  /** Every text frame sent, with the client it went to. */
  readonly sent: { clientId: string; type: string; data: Record<string, unknown> }[] = [];
  private readonly clientOf = new WeakMap<WebSocket, string>();
  /** Bodies posted to /agiqa/verdict. */
  readonly verdicts: Record<string, unknown>[] = [];

  constructor(private readonly options: DoubleOptions) {
    super();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<void> {
    const http = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
    const wss = new WebSocketServer({ noServer: true });
    http.on('upgrade', (request, socket, head) => {
      const url = new URL(request.url ?? '/', 'http://x');
      if ((url.pathname !== '/ws' && url.pathname !== '/api/ws') || this.faults.refuseSockets) return socket.destroy();
      wss.handleUpgrade(request, socket, head, (ws) => this.socketOnConnect(ws, url.searchParams.get('clientId')));
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (http.address() as AddressInfo).port;
    this.http = http;
    this.wss = wss;
  }

  /** Stops listening; open sockets die with 1006 as when the process is killed. */
  async stop(): Promise<void> {
    this.epoch += 1;
    // Every socket, including ones another connection with the same client id replaced.
    for (const socket of this.everySocket) socket.terminate();
    this.everySocket.clear();
    this.sockets.clear();
    this.wss?.close();
    const http = this.http;
    this.http = null;
    if (http !== null) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }

  /**
   * A ComfyUI restart: sockets close with 1006, connections are refused for `downMs`, the running and
   * queued prompts vanish without an error event, history (kept in memory) is lost. Files stay on disk.
   */
  async restart(downMs = 50): Promise<void> {
    await this.stop();
    this.history.clear();
    this.queue.length = 0;
    this.running = null;
    this.cache.clear();
    this.release();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start(this.port);
  }

  /** Kills one client's socket (it sees 1006), as a network drop would. */
  dropSocket(clientId: string): boolean {
    const socket = this.sockets.get(clientId);
    socket?.terminate();
    return socket !== undefined;
  }

  /** Stops reading one client's socket (no pongs, no frames): a half-open connection. */
  stall(clientId: string): boolean {
    const socket = this.sockets.get(clientId) as unknown as { _socket?: { pause(): void } } | undefined;
    socket?._socket?.pause();
    return socket !== undefined;
  }

  connectedClients(): string[] {
    return [...this.sockets.keys()];
  }

  /** Holds the worker before its next node until `release()`. */
  hold(): void {
    if (this.gate !== null) return;
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  get runningPromptId(): string | null {
    return this.running?.item.promptId ?? null;
  }

  /** Queues a prompt as POST /prompt would (for tests playing "the browser"). */
  submit(graph: Graph, clientId: string | null = null): string {
    const outcome = this.enqueue({ prompt: graph, client_id: clientId ?? undefined });
    if (outcome.status !== 200) throw new Error(`submit refused: ${JSON.stringify(outcome.body)}`);
    return (outcome.body as { prompt_id: string }).prompt_id;
  }

  /** Resolves when every queued prompt has finished (or vanished in a restart). */
  async drained(): Promise<void> {
    while (this.queue.length > 0 || this.running !== null) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  // ── WebSocket ───────────────────────────────────────────────────────────────────────────────────

  private socketOnConnect(ws: WebSocket, requestedId: string | null): void {
    const clientId = requestedId ?? randomUUID().replace(/-/g, '');
    // Reusing a client id steals the socket: the older one stops receiving.
    this.sockets.set(clientId, ws);
    this.clientOf.set(ws, clientId);
    this.everySocket.add(ws);
    ws.on('close', () => {
      this.everySocket.delete(ws);
      if (this.sockets.get(clientId) === ws) this.sockets.delete(clientId);
    });
    ws.on('message', () => {
      // feature_flags and anything else a client sends are accepted silently.
    });
    this.sendTo(ws, 'status', { status: { exec_info: { queue_remaining: this.remaining() } }, sid: clientId });
    // Reconnecting while its prompt runs: ComfyUI tells the current node WITHOUT prompt_id.
    if (this.running !== null && this.running.item.clientId === clientId && this.running.node !== null) {
      this.sendTo(ws, 'executing', { node: this.running.node });
    }
  }

  private sendTo(ws: WebSocket | undefined, type: string, data: Record<string, unknown>): void {
    if (ws === undefined || ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify({ type, data }));
    this.sent.push({ clientId: this.clientOf.get(ws) ?? '?', type, data });
  }

  private broadcast(type: string, data: Record<string, unknown>): void {
    for (const ws of this.sockets.values()) this.sendTo(ws, type, data);
  }

  /** Run events: to the submitter only; progress and previews of a prompt without client_id: to all. */
  private toSubmitter(item: QueueItem, type: string, data: Record<string, unknown>, everyoneWithoutClient = false): void {
    if (item.clientId !== null) this.sendTo(this.sockets.get(item.clientId), type, data);
    else if (everyoneWithoutClient) this.broadcast(type, data);
  }

  private previewTo(item: QueueItem): void {
    const frame = Buffer.alloc(8);
    frame.writeUInt32BE(1, 0); // PREVIEW_IMAGE
    frame.writeUInt32BE(2, 4); // PNG
    const bytes = Buffer.concat([frame, PREVIEW_PNG]);
    const targets = item.clientId !== null ? [this.sockets.get(item.clientId)] : [...this.sockets.values()];
    for (const ws of targets) if (ws !== undefined && ws.readyState === ws.OPEN) ws.send(bytes);
  }

  private remaining(): number {
    return this.queue.length + (this.running === null ? 0 : 1);
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────────────

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://x');
    const path = url.pathname.replace(/^\/api(?=\/)/, '');
    this.requests.push(`${request.method} ${path}${url.search}`);
    const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    if (request.method === 'POST' && path === '/prompt') {
      const raw = await readBody(request);
      if (this.faults.promptFailures > 0) {
        this.faults.promptFailures -= 1;
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(NOT_JSON.body);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(NOT_JSON.body);
        return;
      }
      const outcome = this.enqueue(body as Record<string, unknown>);
      json(outcome.status, outcome.body);
      return;
    }
    if (request.method === 'GET' && path === '/history') {
      const maxItems = url.searchParams.has('max_items') ? Number(url.searchParams.get('max_items')) : null;
      let offset = url.searchParams.has('offset') ? Number(url.searchParams.get('offset')) : -1;
      // execution.py get_history: without an offset, the LAST max_items entries, oldest first.
      if (offset < 0 && maxItems !== null) offset = this.history.size - maxItems;
      const out: Record<string, unknown> = {};
      let i = 0;
      for (const [id, entry] of this.history) {
        if (i >= offset) {
          out[id] = entry;
          if (maxItems !== null && Object.keys(out).length >= maxItems) break;
        }
        i += 1;
      }
      json(200, out);
      return;
    }
    const historyOf = /^\/history\/(.+)$/.exec(path);
    if (request.method === 'GET' && historyOf) {
      const id = decodeURIComponent(historyOf[1]!);
      const entry = this.history.get(id);
      json(200, entry === undefined ? {} : { [id]: entry });
      return;
    }
    if (request.method === 'GET' && path === '/view') {
      const filename = url.searchParams.get('filename') ?? '';
      const subfolder = url.searchParams.get('subfolder') ?? '';
      const type = url.searchParams.get('type') ?? 'output';
      const failure = this.faults.viewStatus.get(filename);
      if (failure !== undefined) {
        response.writeHead(failure, { 'content-type': 'text/plain; charset=utf-8' }).end(`${failure}: scripted failure`);
        return;
      }
      const bytes = this.files.get(fileKey({ filename, subfolder, type }));
      if (bytes === undefined || this.faults.missingView.has(filename) || filename.includes('..')) {
        response.writeHead(404, { 'content-type': 'application/octet-stream' }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'image/png', 'content-disposition': `filename="${filename}"` }).end(Buffer.from(bytes));
      return;
    }
    if (request.method === 'GET' && path === '/queue') {
      const tuple = (item: QueueItem) => [item.number, item.promptId, item.graph, item.extraData, item.outputs];
      json(200, { queue_running: this.running === null ? [] : [tuple(this.running.item)], queue_pending: this.queue.map(tuple) });
      return;
    }
    const objectInfo = /^\/object_info(?:\/(.+))?$/.exec(path);
    if (request.method === 'GET' && objectInfo) {
      json(200, objectInfo[1] === undefined || objectInfo[1] === 'SaveImage' ? OBJECT_INFO_SAVE : {});
      return;
    }
    if (request.method === 'POST' && path === '/agiqa/verdict' && this.options.verdictRoute) {
      this.verdicts.push(JSON.parse((await readBody(request)).toString('utf8')) as Record<string, unknown>);
      json(200, { ok: true });
      return;
    }
    await readBody(request);
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404: Not Found');
  }

  private enqueue(body: Record<string, unknown>): { status: number; body: unknown } {
    const graph = body.prompt as Graph | undefined;
    if (graph === undefined || graph === null || typeof graph !== 'object') return { status: NO_PROMPT.status, body: NO_PROMPT.body };
    for (const [id, node] of Object.entries(graph)) {
      if (/^DoesNotExist/.test(node.class_type)) {
        return {
          status: 400,
          body: { error: { ...INVALID_NODE.body.error, message: `Cannot execute because node ${node.class_type} does not exist.`, details: `Node ID '#${id}'` }, node_errors: {} },
        };
      }
    }
    const outputs = Object.keys(graph).filter((id) => OUTPUT_NODES.has(graph[id]!.class_type));
    if (outputs.length === 0) {
      return { status: 400, body: { error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: {} } };
    }
    const promptId = typeof body.prompt_id === 'string' ? body.prompt_id : randomUUID();
    const number = body.front === true ? -(this.number++) : this.number++;
    const clientId = typeof body.client_id === 'string' ? body.client_id : null;
    const extraData = { ...((body.extra_data as Record<string, unknown> | undefined) ?? {}), ...(clientId === null ? {} : { client_id: clientId }) };
    this.queue.push({ number, promptId, graph, extraData, outputs, clientId });
    this.queue.sort((a, b) => a.number - b.number);
    // The recorded server sends two status broadcasts for one queued prompt.
    this.broadcast('status', { status: { exec_info: { queue_remaining: this.remaining() } } });
    this.broadcast('status', { status: { exec_info: { queue_remaining: this.remaining() } } });
    void this.work();
    return { status: 200, body: { prompt_id: promptId, number, node_errors: {} } };
  }

  private async work(): Promise<void> {
    if (this.workerBusy) return;
    this.workerBusy = true;
    try {
      while (this.queue.length > 0) {
        const epoch = this.epoch;
        const item = this.queue.shift()!;
        this.running = { item, node: null };
        await this.execute(item, epoch);
        if (epoch === this.epoch) this.running = null;
      }
    } finally {
      this.workerBusy = false;
    }
  }

  private async execute(item: QueueItem, epoch: number): Promise<void> {
    const alive = () => epoch === this.epoch;
    const ts = () => Date.now();
    const messages: [string, Record<string, unknown>][] = [];
    const record = (type: string, data: Record<string, unknown>) => {
      messages.push([type, data]);
      this.toSubmitter(item, type, data);
    };
    const key = JSON.stringify(item.graph);
    const cached = this.cache.get(key);
    await tick();
    record('execution_start', { prompt_id: item.promptId, timestamp: ts() });
    const ids = executionOrder(item.graph, item.outputs);
    record('execution_cached', { nodes: cached === undefined ? [] : ids, prompt_id: item.promptId, timestamp: ts() });
    const outputs: Record<string, { images: ImageRef[] }> = {};
    const executed: string[] = [];
    let error: Record<string, unknown> | null = null;
    for (const id of ids) {
      const node = item.graph[id]!;
      if (cached !== undefined) {
        // Cached: no executing frame, but `executed` repeats the OLD file names; nothing is written.
        if (cached[id] !== undefined) {
          outputs[id] = cached[id]!;
          this.toSubmitter(item, 'executed', { node: id, display_node: id, output: cached[id], prompt_id: item.promptId });
        }
        continue;
      }
      if (this.gate !== null) await this.gate;
      if (!alive()) return;
      this.running = { item, node: id };
      this.emit('node', { promptId: item.promptId, node: id });
      const state = (value: number, s: string) => ({ prompt_id: item.promptId, nodes: { [id]: { value, max: 1, state: s, node_id: id, prompt_id: item.promptId, display_node_id: id, parent_node_id: null, real_node_id: id } } });
      this.toSubmitter(item, 'progress_state', state(0, 'running'), true);
      this.toSubmitter(item, 'executing', { node: id, display_node: id, prompt_id: item.promptId });
      if (SAMPLERS.has(node.class_type)) {
        for (let step = 0; step < 2; step += 1) {
          this.toSubmitter(item, 'progress', { value: step, max: 2, prompt_id: item.promptId, node: id }, true);
          this.previewTo(item);
        }
      }
      await tick();
      if (!alive()) return;
      if (node.class_type === 'SaveImage' && String(node.inputs.filename_prefix ?? '').includes('..')) {
        error = { ...RECORDED_ERROR, prompt_id: item.promptId, node_id: id, node_type: node.class_type, executed: [...executed], timestamp: ts() };
        break;
      }
      executed.push(id);
      if (OUTPUT_NODES.has(node.class_type)) {
        const images = await this.writeImages(item, id, node);
        if (!alive()) return;
        // The node pack's Save image with score shows its scores beside the images (its `ui`).
        const output = node.class_type === 'AGIQASaveWithScore' ? { agiqa: images.map((_, index) => ({ index })), text: ['saved'], images } : { images };
        outputs[id] = output;
        this.toSubmitter(item, 'executed', { node: id, display_node: id, output, prompt_id: item.promptId });
      }
      this.toSubmitter(item, 'progress_state', state(1, 'finished'), true);
    }
    if (!alive()) return;
    if (error !== null) record('execution_error', error);
    else {
      this.timeline.set(item.promptId, { success: performance.now() });
      record('execution_success', { prompt_id: item.promptId, timestamp: ts() });
    }
    if (error === null && cached === undefined) this.cache.set(key, outputs);
    // task_done: the history entry is written after execution_success, then the queue status goes out.
    this.history.set(item.promptId, {
      prompt: [item.number, item.promptId, item.graph, item.extraData, item.outputs],
      outputs: error === null ? outputs : {},
      status: { status_str: error === null ? 'success' : 'error', completed: error === null, messages },
      meta: Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }])),
    });
    this.running = null;
    this.timeline.set(item.promptId, { ...this.timeline.get(item.promptId), finished: performance.now() });
    this.broadcast('status', { status: { exec_info: { queue_remaining: this.remaining() } } });
    this.toSubmitter(item, 'executing', { node: null, prompt_id: item.promptId });
    this.emit('finished', { promptId: item.promptId, status: error === null ? 'success' : 'error' });
  }

  private async writeImages(item: QueueItem, id: string, node: { class_type: string; inputs: Record<string, unknown> }): Promise<ImageRef[]> {
    const batch = batchSize(item.graph);
    const save = SAVING_NODES.has(node.class_type);
    const prefix = save ? String(node.inputs.filename_prefix ?? 'ComfyUI') : this.tempPrefix;
    const images: ImageRef[] = [];
    // folder_paths.get_save_image_path: the counter continues from the files on disk, across restarts.
    let counter = (this.fileCounters.get(prefix) ?? 0) + 1;
    for (let index = 0; index < batch; index += 1, counter += 1) {
      const ref = { filename: `${prefix}_${String(counter).padStart(5, '0')}_.png`, subfolder: '', type: save ? 'output' : 'temp' };
      this.files.set(fileKey(ref), await this.options.makeImage({ promptId: item.promptId, node: id, index, graph: item.graph, filename: ref.filename }));
      images.push(ref);
    }
    this.fileCounters.set(prefix, counter - 1);
    return images;
  }
}

/** Like ComfyUI: only the output nodes and what they depend on run, inputs first. */
function executionOrder(graph: Graph, outputs: string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id) || graph[id] === undefined) return;
    seen.add(id);
    for (const value of Object.values(graph[id]!.inputs)) {
      if (Array.isArray(value) && value.length === 2 && typeof value[1] === 'number') visit(String(value[0]));
    }
    order.push(id);
  };
  for (const id of [...outputs].sort((a, b) => Number(a) - Number(b))) visit(id);
  return order;
}

function fileKey(ref: ImageRef): string {
  return `${ref.type}/${ref.subfolder}/${ref.filename}`;
}

function batchSize(graph: Graph): number {
  for (const node of Object.values(graph)) {
    const size = node.inputs.batch_size;
    if (typeof size === 'number' && size > 0) return size;
  }
  return 1;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
