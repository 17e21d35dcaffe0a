// Raw pixel frames over multipart (`pixels` files with width, height, channels and the `text` metadata):
// validated at the edge against the same byte and pixel caps as files, handed to the scorer with their
// layout, and the recovered prompt stored with the generation.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../src/config/index.js';
import type { ScoreRequest } from '../../src/scoring/scorer.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { FakeScorer } from '../fixtures/server/fake-scorer.js';

const running: RunningServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
});

/** The fake scorer, recording what it was asked and "recovering" the prompt from the text like the real one. */
class RecordingScorer extends FakeScorer {
  readonly requests: { pixels: ScoreRequest['pixels']; text: ScoreRequest['text']; bytes: number }[] = [];
  override async score(request: ScoreRequest) {
    this.requests.push({ pixels: request.pixels, text: request.text, bytes: request.image.length });
    const result = await super.score(request);
    const recovered = request.text?.parameters?.split('\n')[0];
    return request.prompt === undefined && recovered !== undefined ? { ...result, prompt: { text: recovered, source: 'embedded' as const } } : result;
  }
}

async function start(config: ConfigInput = {}) {
  const scorer = new RecordingScorer();
  const server = await startServer({
    config: configSchema.parse({ port: 0, logLevel: 'silent', ...config, home: mkdtempSync(join(tmpdir(), 'agiqa-raw-')) }),
    scorer,
    logger: pino({ level: 'silent' }),
    listPacks: async () => [],
  });
  running.push(server);
  await new Promise((resolve) => setImmediate(resolve));
  return { server, scorer };
}

function frame(width: number, height: number, channels: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: width * height * channels }, (_, index) => (index * seed) % 251);
}

function rawForm(frames: Uint8Array[], fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  frames.forEach((bytes, index) => form.append("pixels", new Blob([bytes as Uint8Array<ArrayBuffer>]), `frame-${index}.raw`));
  return form;
}

describe('raw pixel frames', () => {
  it('scores a batch of frames through /v1/rank with their layout and stores the prompt recovered from the text field', async () => {
    const { server, scorer } = await start();
    const text = JSON.stringify({ parameters: 'a lighthouse at dusk\nSteps: 20' });
    const form = rawForm([frame(8, 4, 3, 1), frame(8, 4, 3, 2)], { width: '8', height: '4', channels: '3', text, source: 'a1111' });
    const response = await fetch(`${server.url}/v1/rank`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { generationId: number; rank: number }[] };
    expect(body.items.map((item) => item.rank).sort()).toEqual([1, 2]);
    expect(scorer.requests.map((r) => r.pixels)).toEqual([{ width: 8, height: 4, channels: 3 }, { width: 8, height: 4, channels: 3 }]);
    expect(scorer.requests[0]!.text).toEqual({ parameters: 'a lighthouse at dusk\nSteps: 20' });
    const found = (await (await fetch(`${server.url}/v1/generations?prompt=lighthouse`)).json()) as { generations: { prompt: string; promptSource: string; source: string }[] };
    expect(found.generations).toHaveLength(2);
    expect(found.generations[0]).toMatchObject({ prompt: 'a lighthouse at dusk', promptSource: 'embedded', source: 'a1111' });
  });

  it('scores one frame through /v1/score', async () => {
    const { server, scorer } = await start();
    const response = await fetch(`${server.url}/v1/score`, { method: 'POST', body: rawForm([frame(4, 4, 4)], { width: '4', height: '4', channels: '4', prompt: 'a cat' }) });
    expect(response.status).toBe(200);
    expect(scorer.requests[0]).toMatchObject({ pixels: { width: 4, height: 4, channels: 4 }, bytes: 64 });
  });

  it('refuses bad layouts with coded errors, every field problem at once', async () => {
    const { server, scorer } = await start({ limits: { maxImagePixels: 100 } });
    const post = async (form: FormData) => {
      const response = await fetch(`${server.url}/v1/rank`, { method: 'POST', body: form });
      return { status: response.status, error: ((await response.json()) as { error: { code: string; message: string } }).error };
    };
    const fields = await post(rawForm([frame(2, 2, 3)], { width: '0', height: 'x', channels: '2', text: '{oops' }));
    expect(fields.status).toBe(400);
    expect(fields.error.code).toBe('AGQ_ERR_INVALID_INPUT');
    for (const field of ['width', 'height', 'channels', 'text']) expect(fields.error.message).toContain(`${field}:`);
    const noLayout = await post(rawForm([frame(2, 2, 3)], {}));
    expect(noLayout).toMatchObject({ status: 400, error: { message: expect.stringContaining('need the fields width, height and channels') } });
    const short = await post(rawForm([frame(2, 2, 3).subarray(1)], { width: '2', height: '2', channels: '3' }));
    expect(short).toMatchObject({ status: 422, error: { code: 'AGQ_ERR_IMAGE_RAW_LAYOUT' } });
    const huge = await post(rawForm([frame(20, 20, 1)], { width: '20', height: '20', channels: '1' }));
    expect(huge).toMatchObject({ status: 413, error: { code: 'AGQ_ERR_IMAGE_TOO_MANY_PIXELS' } });
    expect(scorer.requests).toHaveLength(0);
  });
});
