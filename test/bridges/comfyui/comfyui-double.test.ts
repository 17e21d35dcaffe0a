// Keeps the double faithful: the frame sequences it sends must be the ones the real ComfyUI sent.
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyDouble, recordedFrames } from './comfyui-double.js';
import { mainGraph, samplerGraph, waitFor } from './harness.js';

let double: ComfyDouble;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await double.stop();
});

async function listen(clientId: string): Promise<{ types: string[]; binary: number }> {
  const seen = { types: [] as string[], binary: 0 };
  const socket = new WebSocket(`${double.url}/ws?clientId=${clientId}`.replace('http', 'ws'));
  sockets.push(socket);
  socket.on('message', (data, isBinary) => {
    if (isBinary) seen.binary += 1;
    else seen.types.push((JSON.parse(data.toString()) as { type: string }).type);
  });
  await waitFor(() => seen.types.length > 0, 'the first status');
  return seen;
}

describe('ComfyDouble', () => {
  it('sends the recorded submitter and observer frame sequences of the main capture', async () => {
    double = new ComfyDouble({ makeImage: () => new Uint8Array([1]) });
    await double.start();
    const submitter = await listen('submitter');
    const observer = await listen('observer');
    double.submit(mainGraph(), 'submitter');
    await double.drained();
    const expected = recordedFrames('frames-submitter.jsonl').map((f) => f.type);
    await waitFor(() => submitter.types.length >= expected.length && observer.types.length >= 4, 'the last frames');
    expect(submitter.types).toEqual(expected);
    expect(observer.types).toEqual(recordedFrames('frames-observer.jsonl').map((f) => f.type));
  });

  it('an identical resubmission repeats the recorded cached sequence and the old file names', async () => {
    double = new ComfyDouble({ makeImage: () => new Uint8Array([1]) });
    await double.start();
    double.submit(mainGraph(), null);
    await double.drained();
    const submitter = await listen('submitter');
    const second = double.submit(mainGraph(), 'submitter');
    await double.drained();
    await waitFor(() => submitter.types.includes('execution_success') && submitter.types.at(-1) === 'executing', 'the last frame');
    const recorded = recordedFrames('frames-cached-submitter.jsonl').map((f) => f.type).filter((t) => t !== 'progress_state');
    expect(submitter.types.filter((t) => t !== 'progress_state')).toEqual(recorded);
    expect(JSON.stringify(double.history.get(second))).toContain('bridge_test_00001_.png');
    expect(double.files.size).toBe(2);
  });

  it('a prompt without client_id sends progress and previews to every socket, run events to none', async () => {
    double = new ComfyDouble({ makeImage: () => new Uint8Array([1]) });
    await double.start();
    const observer = await listen('observer');
    double.submit(samplerGraph(1), null);
    await double.drained();
    await waitFor(() => observer.types.filter((t) => t === 'status').length === 4, 'the final status');
    expect(observer.binary).toBe(2);
    expect(observer.types).toContain('progress');
    expect(observer.types.filter((t) => ['execution_start', 'executing', 'executed', 'execution_success'].includes(t))).toEqual([]);
  });

  it('restart: 1006 to clients, refused while down, history and queue lost', async () => {
    double = new ComfyDouble({ makeImage: () => new Uint8Array([1]) });
    await double.start();
    double.submit(mainGraph(), null);
    await double.drained();
    const socket = new WebSocket(double.url.replace('http', 'ws') + '/ws?clientId=x');
    sockets.push(socket);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const restarting = double.restart(200);
    expect(await closed).toBe(1006);
    await expect(fetch(`${double.url}/history`)).rejects.toThrow();
    await restarting;
    expect(await (await fetch(`${double.url}/history`)).json()).toEqual({});
  });
});
