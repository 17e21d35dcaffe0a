#!/usr/bin/env bash
# Reproduces models/lite/detector.onnx: @vladmandic/human's CenterNet converted op for op (float16
# weights), prepared (casts folded, hard-swish fused), quantized to int8 with the committed activation
# ranges (tools/tfjs-to-onnx/detector-ranges.json). With STAMPS set, the ranges are first recalibrated on
# 240 generated scenes (seed 2: not the evaluation set's seed 1) and examples/, and the file rewritten.
#   bash tools/tfjs-to-onnx/detector-int8.sh                     # -> models/lite/detector.onnx
#   STAMPS=stamps-deb/usr/share/tuxpaint/stamps bash tools/tfjs-to-onnx/detector-int8.sh   # recalibrate first
#   SIZE=384 RANGES=/tmp/ranges-384.json OUT=/tmp/detector-384.onnx STAMPS=… bash tools/tfjs-to-onnx/detector-int8.sh
#     # another input side (a multiple of 32; the runtime reads it from the graph's input): calibrate for it
# (apt-get download tuxpaint-stamps-default && dpkg-deb -x tuxpaint-stamps-default_*.deb stamps-deb)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=${OUT:-models/lite/detector.onnx}
SIZE=${SIZE:-512}
RANGES=${RANGES:-tools/tfjs-to-onnx/detector-ranges.json}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

npx tsx tools/tfjs-to-onnx/cli.ts --model centernet --size "$SIZE" --out "$WORK/detector-f16.onnx"
"$PYTHON" tools/tfjs-to-onnx/quantize_detector.py prepare --model "$WORK/detector-f16.onnx" --out-dir "$WORK"
if [ -n "${STAMPS:-}" ]; then
  npx tsx tools/detection-fixtures/make-set.ts --stamps "$STAMPS" --out "$WORK/calibration" --seed 2 --images 240
  npx tsx tools/tfjs-to-onnx/calibrate-detector.ts --original "$WORK/detector-f16.onnx" --dir "$WORK" --images "$WORK/calibration" --images examples
  cp "$WORK/ranges.json" "$RANGES"
fi
"$PYTHON" tools/tfjs-to-onnx/quantize_detector.py quantize --model "$WORK/float.onnx" --ranges "$RANGES" --out "$OUT"
sha256sum "$OUT"
