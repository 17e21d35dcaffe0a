import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Feedback, verdictPush } from '../../../src/bridges/comfyui/feedback.js';
import { ComfyHttp } from '../../../src/bridges/comfyui/http-client.js';
import { judge } from '../../../src/policy/index.js';
import { fakeResult } from '../../fixtures/server/fake-scorer.js';
import { LogRecorder } from './harness.js';

const ids = { promptId: 'p', node: '9', filename: 'a.png', subfolder: 's', type: 'output', batchIndex: 2, rank: 1, generationId: 7 };

async function comfyAnswering(status: number): Promise<{ url: string; bodies: unknown[]; close: () => Promise<void> }> {
  const bodies: unknown[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += String(chunk)));
    request.on('end', () => {
      bodies.push(JSON.parse(body));
      response.writeHead(status).end(status === 200 ? '{}' : 'boom');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('verdictPush', () => {
  it('carries the ComfyUI ids, verdict, reasons, MOS and per-aspect MOS (null when not judged)', () => {
    const result = fakeResult({ mos: 2, correspondence: null });
    expect(verdictPush(ids, result, judge(result, { thresholds: { overall: 2.5 } }))).toEqual({
      prompt_id: 'p',
      node: '9',
      filename: 'a.png',
      subfolder: 's',
      type: 'output',
      batch_index: 2,
      rank: 1,
      generation_id: 7,
      verdict: 'reject',
      reasons: ['overall 2.00 < 2.50'],
      mos: 2,
      level: 'fair',
      aspects: { quality: 2, correspondence: null, authenticity: 2 },
    });
  });
});

describe('Feedback', () => {
  it('posts to /agiqa/verdict and logs a failing route as a warning without throwing', async () => {
    const comfy = await comfyAnswering(500);
    const logs = new LogRecorder();
    const feedback = new Feedback(new ComfyHttp(comfy.url), logs);
    const result = fakeResult({ mos: 4 });
    feedback.push(verdictPush(ids, result, judge(result, { thresholds: {} })));
    await feedback.settled();
    await comfy.close();
    expect(comfy.bodies).toHaveLength(1);
    expect(logs.find('could not push a verdict')[0]!.fields.err).toContain('HTTP 500');
  });
});
