// The ComfyUI double in its own process for bench/comfyui.bench.ts (ComfyUI is another process in
// real use, so it must not share the bridge's event loop). Driven over IPC; times are epoch ms
// (timeOrigin + now) so both processes read the same clock.
import sharp from 'sharp';
import { ComfyDouble } from '../test/bridges/comfyui/comfyui-double.js';

export type DoubleCommand =
  | { op: 'submit'; id: number; graph: Record<string, { class_type: string; inputs: Record<string, unknown> }>; clientId: string | null }
  | { op: 'timeline'; id: number; promptId: string }
  | { op: 'firstOutput'; id: number }
  | { op: 'drained'; id: number }
  | { op: 'refuseSockets'; id: number; value: boolean }
  | { op: 'drop'; id: number; clientId: string }
  | { op: 'connected'; id: number }
  | { op: 'stop'; id: number };

const SIDE = Number(process.env.BENCH_IMAGE_SIDE ?? 512);
const COUNT = Number(process.env.BENCH_IMAGES ?? 64);
const epoch = (t: number) => performance.timeOrigin + t;

const images = await Promise.all(
  Array.from({ length: COUNT }, (_, seed) =>
    sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: { r: seed % 256, g: (seed * 7) % 256, b: (seed * 13) % 256 }, noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
      .png({ compressionLevel: 1 })
      .toBuffer(),
  ),
);
let next = 0;
const double = new ComfyDouble({ makeImage: () => images[next++ % images.length]! });
await double.start();

process.on('message', async (command: DoubleCommand) => {
  const reply = (value: unknown) => process.send!({ id: command.id, value });
  switch (command.op) {
    case 'submit':
      return reply(double.submit(command.graph, command.clientId));
    case 'timeline': {
      const entry = double.timeline.get(command.promptId) ?? {};
      return reply({ success: entry.success === undefined ? undefined : epoch(entry.success), finished: entry.finished === undefined ? undefined : epoch(entry.finished) });
    }
    case 'firstOutput': {
      const entry = [...double.history.values()][0] as { outputs: Record<string, { images: { filename: string }[] }> };
      return reply(entry.outputs['9']!.images[0]!.filename);
    }
    case 'drained':
      await double.drained();
      return reply(null);
    case 'refuseSockets':
      double.faults.refuseSockets = command.value;
      return reply(null);
    case 'drop':
      return reply(double.dropSocket(command.clientId));
    case 'connected':
      return reply(double.connectedClients());
    case 'stop':
      await double.stop();
      reply(null);
      process.disconnect();
      return;
  }
});
process.send!({ id: 0, value: { url: double.url, imageBytes: images[0]!.length } });
