// Model part, pack 0.6.0 vs 0.5.0 in one process, interleaved: signals (each pack's own computeSignals:
// signals-3 vs signals-2) + quality.onnx on one 224² crop (1 thread). Wall and CPU ms per image, medians.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
const NEW = '/work/main', OLD = '/work/lite-data/previous-src';
const sigNew = await import(`${NEW}/dist/signals/index.js`);
const sigOld = await import(`${OLD}/dist/signals/index.js`);
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const };
const mNew = await ort.InferenceSession.create(`${NEW}/models/lite/quality.onnx`, opts);
const mOld = await ort.InferenceSession.create(`${OLD}/models/lite/quality.onnx`, opts);
const size = Number(process.argv[2] ?? 1024);
const src = process.argv[4] ?? `${NEW}/examples/coffee.png`;
const { data, info } = await sharp(readFileSync(src)).resize(size, size).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const img = { rgb: new Uint8Array(data), width: info.width, height: info.height };
const crops = new ort.Tensor('float32', Float32Array.from({ length: 224 * 224 * 3 }, (_, i) => img.rgb[i % img.rgb.length]!), [1, 224, 224, 3]);
async function once(sig: typeof sigNew, m: ort.InferenceSession) {
  const f = sig.computeSignals(img).features as Float32Array;
  await m.run({ crops, signals: new ort.Tensor('float32', f, [1, f.length]) });
}
const T = { new: { wall: [] as number[], cpu: [] as number[], sig: [] as number[] }, old: { wall: [] as number[], cpu: [] as number[], sig: [] as number[] } };
for (let i = 0; i < 5; i++) { await once(sigNew, mNew); await once(sigOld, mOld); }
for (let i = 0; i < Number(process.argv[3] ?? 150); i++) {
  for (const k of (i % 2 ? ['new', 'old'] : ['old', 'new']) as ('new' | 'old')[]) {
    const sig = k === 'new' ? sigNew : sigOld;
    const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint();
    await once(sig, k === 'new' ? mNew : mOld);
    T[k].wall.push(Number(process.hrtime.bigint() - t0) / 1e6); const c = process.cpuUsage(c0); T[k].cpu.push((c.user + c.system) / 1000);
    const s0 = process.cpuUsage(); sig.computeSignals(img); const s = process.cpuUsage(s0); T[k].sig.push((s.user + s.system) / 1000);
  }
}
const med = (x: number[]) => { const s = [...x].sort((p, q) => p - q); return s[s.length >> 1]!; };
const r = (k: 'new' | 'old') => ({ wall: +med(T[k].wall).toFixed(2), cpu: +med(T[k].cpu).toFixed(2), signalsCpu: +med(T[k].sig).toFixed(2) });
console.log(JSON.stringify({ src: src.split('/').pop(), size, new: r('new'), old: r('old'), ratioWall: +(med(T.new.wall) / med(T.old.wall)).toFixed(3), ratioCpu: +(med(T.new.cpu) / med(T.old.cpu)).toFixed(3) }));
