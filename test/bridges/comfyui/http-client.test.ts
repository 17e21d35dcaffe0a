// The HTTP client against the double: recorded answers, and every failure as a catalogued error.
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyHttp, isTransient, normaliseComfyUrl } from '../../../src/bridges/comfyui/http-client.js';
import { agiqaError } from '../../../src/errors/index.js';
import { ComfyDouble } from './comfyui-double.js';
import { mainGraph, samplerGraph } from './harness.js';

let double: ComfyDouble | null = null;
afterEach(async () => {
  await double?.stop();
  double = null;
});

async function started(verdictRoute = false): Promise<ComfyDouble> {
  double = new ComfyDouble({ makeImage: () => new Uint8Array([137, 80, 78, 71]), verdictRoute });
  await double.start();
  return double;
}

describe('normaliseComfyUrl', () => {
  it('keeps the origin and refuses paths and other schemes', () => {
    expect(normaliseComfyUrl('http://127.0.0.1:8188/')).toBe('http://127.0.0.1:8188');
    expect(() => normaliseComfyUrl('127.0.0.1:8188')).toThrow(expect.objectContaining({ code: 'AGQ_ERR_COMFYUI_URL_INVALID' }));
    expect(() => normaliseComfyUrl('http://host/comfy')).toThrow(/must not have a path/);
    expect(() => normaliseComfyUrl('ws://host:8188')).toThrow(/expected http: or https:/);
  });
});

describe('ComfyHttp', () => {
  it('queues under a chosen prompt_id, reads /history and /history/{id}, fetches /view', async () => {
    const d = await started();
    const http = new ComfyHttp(d.url);
    const { promptId } = await http.queuePromptWithId(mainGraph(), 'bridge', 'my-id', {});
    expect(promptId).toBe('my-id');
    await d.drained();
    const page = await http.history(10);
    expect([...page.entries.keys()]).toEqual(['my-id']);
    expect(await http.historyOf('unknown')).toBeNull();
    const entry = await http.historyOf('my-id');
    const image = (entry!.outputs['9']!.images as { filename: string; subfolder: string; type: string }[])[0]!;
    expect([...(await http.view(image, { promptId, node: '9' }))]).toEqual([137, 80, 78, 71]);
  });

  it('404 on /view is AGQ_ERR_COMFYUI_IMAGE_MISSING with the ids; 500 on /prompt is a transient AGQ_ERR_COMFYUI_HTTP', async () => {
    const d = await started();
    const http = new ComfyHttp(d.url);
    await expect(http.view({ filename: 'x.png', subfolder: '', type: 'output' }, { promptId: 'p', node: '9' })).rejects.toMatchObject({
      code: 'AGQ_ERR_COMFYUI_IMAGE_MISSING',
      message: expect.stringContaining('(prompt p, node 9)'),
    });
    d.faults.promptFailures = 1;
    const failure = await http.queuePromptWithId(samplerGraph(1), 'bridge', 'x').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'AGQ_ERR_COMFYUI_HTTP', message: expect.stringContaining('HTTP 500') });
    expect(isTransient(failure)).toBe(true);
    // The recorded 400 for an unknown node: not transient.
    const invalid = await http.queuePromptWithId({ '1': { class_type: 'DoesNotExistNode', inputs: {} } }, 'bridge', 'y').catch((error: unknown) => error);
    expect(invalid).toMatchObject({ code: 'AGQ_ERR_COMFYUI_HTTP', message: expect.stringContaining('invalid_prompt') });
    expect(isTransient(invalid)).toBe(false);
  });

  it('pushVerdict: false on 404 (no node pack), true when the route exists', async () => {
    expect(await new ComfyHttp((await started(false)).url).pushVerdict({ a: 1 })).toBe(false);
    await double!.stop();
    const d = await started(true);
    expect(await new ComfyHttp(d.url).pushVerdict({ a: 1 })).toBe(true);
    expect(d.verdicts).toEqual([{ a: 1 }]);
  });

  it('ComfyUI down is AGQ_ERR_COMFYUI_UNREACHABLE, transient', async () => {
    const d = await started();
    const url = d.url;
    await d.stop();
    const failure = await new ComfyHttp(url).history(1).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'AGQ_ERR_COMFYUI_UNREACHABLE' });
    expect(isTransient(failure)).toBe(true);
    expect(isTransient(agiqaError('AGQ_ERR_IMAGE_CORRUPT', { file: 'a', detail: 'b' }))).toBe(false);
  });
});
