import { describe, expect, it } from 'vitest';
import { backoffDelay, ComfySocket } from '../../../src/bridges/comfyui/ws-client.js';
import { ComfyDouble } from './comfyui-double.js';
import { waitFor } from './harness.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with jitter in the upper half', () => {
    const options = { initialMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, { ...options, random: () => 0 }))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, { ...options, random: () => 0.999999 }))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('ComfySocket', () => {
  it('reconnects after a 1006 drop and emits the parsed frames; stop() ends reconnecting', async () => {
    const double = new ComfyDouble({ makeImage: () => new Uint8Array() });
    await double.start();
    const socket = new ComfySocket(ComfySocket.urlFor(double.url, 'bridge-1'), { initialMs: 5, maxMs: 20 });
    const frames: string[] = [];
    const closes: number[] = [];
    socket.on('frame', (frame) => frames.push(frame.type));
    socket.on('close', ({ code }) => closes.push(code));
    socket.start();
    try {
      await waitFor(() => frames.length === 1, 'the first status');
      double.dropSocket('bridge-1');
      await waitFor(() => frames.length === 2, 'the status after reconnecting');
      expect(closes).toEqual([1006]);
      expect(frames).toEqual(['status', 'status']);
    } finally {
      await socket.stop();
      await double.stop();
    }
    expect(socket.connected).toBe(false);
  });

  it('drops and reopens a socket whose peer stops answering pings (half-open connection)', async () => {
    const double = new ComfyDouble({ makeImage: () => new Uint8Array() });
    await double.start();
    const socket = new ComfySocket(ComfySocket.urlFor(double.url, 'bridge-2'), { initialMs: 5, maxMs: 20, heartbeatMs: 30 });
    let opens = 0;
    socket.on('open', () => (opens += 1));
    socket.start();
    try {
      await waitFor(() => opens === 1 && double.connectedClients().includes('bridge-2'), 'the first open');
      double.stall('bridge-2');
      await waitFor(() => opens === 2, 'the reopen after missed pongs');
    } finally {
      await socket.stop();
      await double.stop();
    }
  });

  it('builds ws:// and wss:// addresses with the client id', () => {
    expect(ComfySocket.urlFor('http://127.0.0.1:8188', 'a b')).toBe('ws://127.0.0.1:8188/ws?clientId=a+b');
    expect(ComfySocket.urlFor('https://comfy.example', 'x')).toBe('wss://comfy.example/ws?clientId=x');
  });
});
