#!/usr/bin/env bash
# Reruns the whole lite quality recipe. Every step skips what already exists under training/data/
# (delete a step's output to redo it). Needs Debian's /usr/bin/python3 (torch, onnx, numpy, PIL),
# apt-get (no root install: packages are only downloaded and unpacked) and the repo's node_modules.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
DATA=training/data
step() { echo "== $1 ($(date +%T))" >&2; }

step "sources: download + filter + pristine references"
$PY training/lite/sources.py --data $DATA

step "dataset: split + distortions"
$PY training/lite/dataset.py --data $DATA

if [ ! -f $DATA/mobilenet_v2.onnx ]; then
  step "backbone: convert nsfwjs MobileNetV2 to ONNX"
  npx tsx tools/tfjs-to-onnx/cli.ts --out $DATA/mobilenet_v2.onnx
fi

step "signals: classical features of every dataset image"
if [ ! -f $DATA/signals/signals.json ]; then
  mkdir -p $DATA/signals
  $PY -c "import csv,os,sys; r=csv.DictReader(open('$DATA/dataset/dataset.csv')); print('\n'.join(os.path.realpath(os.path.join('$DATA/dataset', x['path'])) for x in r))" > $DATA/signals/list.txt
  npx tsx tools/extract-signals.ts --list $DATA/signals/list.txt --out $DATA/signals/signals --workers 2
fi

step "features: frozen lower backbone on content-matched crops"
$PY training/lite/features.py --data $DATA

for v in frozen_signals_ens finetune_signals signals_only frozen_signals finetune_only; do
  if [ ! -f $DATA/runs/$v/metrics.json ]; then
    step "train: $v"
    case $v in
      frozen_signals_ens) $PY training/lite/train.py --data $DATA --variant frozen_signals --run-name $v \
          --positions centre,rand,rand2,rand3,rand4 --lower-stats --in-drop 0.2 --sig-drop 0.3 --img-drop 0.5 \
          --heads 3 --epochs 8 --minutes 33 ;;
      finetune_signals) $PY training/lite/train.py --data $DATA --variant $v --epochs 6 --minutes 32 --groups-per-ref 5 ;;
      finetune_only) $PY training/lite/train.py --data $DATA --variant $v --epochs 6 --minutes 22 --groups-per-ref 5 ;;
      frozen_signals) $PY training/lite/train.py --data $DATA --variant $v --epochs 8 --minutes 6 --positions rand ;;
      signals_only) $PY training/lite/train.py --data $DATA --variant $v --epochs 12 --minutes 8 ;;
    esac
  fi
done

step "export + verify (float)"
$PY training/lite/export.py --data $DATA --variant frozen_signals_ens --out $DATA/quant/quality-float.onnx
npx tsx training/lite/verify-onnx.ts $DATA/quality.reference.json

step "quantize: int8 convolutions, calibrated on training crops"
$PY training/lite/quantize.py prepare --model $DATA/quant/quality-float.onnx --out-dir $DATA/quant
npx tsx training/lite/calibrate.ts --original $DATA/quant/quality-float.onnx --dir $DATA/quant \
  --dataset $DATA/dataset/dataset.csv --count 300
$PY training/lite/quantize.py quantize --model $DATA/quant/simplified.onnx --ranges $DATA/quant/ranges.json \
  --keep-float /stem,/blocks.0/,/blocks.1/ --out models/lite/quality.onnx

step "pack: held-out metrics of the shipped file, measured through the TypeScript runtime"
$PY training/lite/report.py --data $DATA   # pack.json with the new file's hash, so the runtime can load it
for split in test val; do
  node bin/agiqa.js eval --dataset $DATA/dataset/dataset.csv --split $split --aspect quality --pack models/lite \
    --workers 1 --report $DATA/quant/eval-$split.json
done
$PY training/lite/report.py --data $DATA --runtime-eval $DATA/quant/eval-test.json --runtime-eval-val $DATA/quant/eval-val.json
step "done"
