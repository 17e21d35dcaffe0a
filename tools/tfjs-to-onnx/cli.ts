// Converts nsfwjs's bundled MobileNetV2 (tfjs layers) or @vladmandic/human's CenterNet (tfjs graph) to ONNX:
//   npx tsx tools/tfjs-to-onnx/cli.ts --out training/data/mobilenet_v2.onnx [--model-dir <dir>] [--feature-layer out_relu]
//   npx tsx tools/tfjs-to-onnx/cli.ts --model centernet --out models/lite/detector.onnx [--model-dir <dir>] [--size 512]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { convertCenternet } from './centernet-source.js';
import { convertNsfwjsMobilenet } from './index.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    'model-dir': { type: 'string' },
    'feature-layer': { type: 'string', default: 'out_relu' },
    model: { type: 'string', default: 'nsfwjs' },
    size: { type: 'string', default: '512' },
  },
});
if (values.out === undefined || (values.model !== 'nsfwjs' && values.model !== 'centernet')) {
  process.stderr.write('usage: npx tsx tools/tfjs-to-onnx/cli.ts [--model nsfwjs|centernet] --out <file.onnx> [--model-dir <dir>] [--feature-layer <layer>] [--size <centernet input, multiple of 32>]\n');
  process.exit(2);
}
try {
  if (values.model === 'centernet') {
    const size = Number(values.size);
    const { bytes, summary, origin, version } = await convertCenternet(values['model-dir'], size);
    await mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
    await writeFile(values.out, bytes);
    process.stdout.write(
      [
        `from   ${origin} (@vladmandic/human ${version ?? 'unknown version'})`,
        `wrote  ${values.out} (${bytes.byteLength} bytes, ${(bytes.byteLength / 2 ** 20).toFixed(2)} MiB)`,
        `input  images [1,${size},${size},3] float32 NHWC RGB in [0,255] (the picture stretched to ${size}x${size}; human feeds 512x512)`,
        'output detections [1,100,6]: x1 y1 x2 y2 (input pixels) score class (0-based COCO-80 index)',
        `graph  ${summary.nodeCount} nodes, ${summary.initializerCount} initializers, ${summary.parameterCount} parameters`,
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  const { bytes, summary, origin } = await convertNsfwjsMobilenet({ modelDir: values['model-dir'], featureLayer: values['feature-layer'] });
  await mkdir(path.dirname(path.resolve(values.out)), { recursive: true });
  await writeFile(values.out, bytes);
  const fmt = (v: { name: string; dims: (number | string)[] }) => `${v.name} [${v.dims.join(',')}]`;
  process.stdout.write(
    [
      `from   ${origin}`,
      `wrote  ${values.out} (${bytes.byteLength} bytes, ${(bytes.byteLength / 2 ** 20).toFixed(2)} MiB)`,
      `input  ${fmt(summary.input)} float32 NHWC RGB in [0,1] (pixel / 255, as nsfwjs feeds it)`,
      `output ${summary.outputs.map(fmt).join(', ')}`,
      `graph  ${summary.nodeCount} nodes, ${summary.initializerCount} initializers, ${summary.parameterCount} parameters; ` +
        `folded ${summary.foldedBatchNorms} BatchNormalization and ${summary.foldedPads} ZeroPadding2D layers`,
      '',
    ].join('\n'),
  );
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
