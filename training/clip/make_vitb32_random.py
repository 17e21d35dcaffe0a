"""Generates a random-weight CLIP ViT-B/32 in the Xenova file layout (fp32 ONNX, opset 17, and a
dynamically int8-quantized copy of each tower) for the
benchmark: the real architecture and sizes (vision: 224 px, patch 32, width 768, 12 layers, 12 heads;
text: 49,408 tokens, 77 positions, width 512, 12 layers, 8 heads; projection 512), so that latency
and memory are those of the real files, which cannot be downloaded here. Not committed (~600 MB).

Run: /usr/bin/python3 training/clip/make_vitb32_random.py OUT_DIR
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_towers import TextTower, VisionTower, export_text, export_vision, quantize_dynamic_matmuls  # noqa: E402
from clip_tokenizer import write_tokenizer  # noqa: E402
from make_tiny_clip import CORPUS  # noqa: E402

VOCAB = 49408


def main(out):
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    torch.manual_seed(32)
    write_tokenizer(out, CORPUS, merge_count=48, vocab_size=VOCAB)
    vision = VisionTower(224, 32, 768, 12, 12, 512)
    text = TextTower(VOCAB, 77, 512, 12, 8, 512)
    with torch.no_grad():
        export_vision(vision, os.path.join(out, 'onnx', 'vision_model.onnx'), 224)
        export_text(text, os.path.join(out, 'onnx', 'text_model.onnx'), VOCAB - 1)
    for tower in ('vision_model', 'text_model'):
        quantize_dynamic_matmuls(os.path.join(out, 'onnx', tower + '.onnx'), os.path.join(out, 'onnx', tower + '_quantized.onnx'))
    config = {'model_type': 'clip', 'projection_dim': 512, 'architectures': ['CLIPModel'],
              'text_config': {'model_type': 'clip_text_model', 'vocab_size': VOCAB, 'hidden_size': 512},
              'vision_config': {'model_type': 'clip_vision_model', 'image_size': 224, 'patch_size': 32, 'hidden_size': 768}}
    preprocessor = {'crop_size': 224, 'do_center_crop': True, 'do_normalize': True, 'do_resize': True,
                    'feature_extractor_type': 'CLIPFeatureExtractor',
                    'image_mean': [0.48145466, 0.4578275, 0.40821073], 'image_std': [0.26862954, 0.26130258, 0.27577711],
                    'resample': 3, 'size': 224}
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out, 'preprocessor_config.json'), 'w') as f:
        json.dump(preprocessor, f, indent=2)
    print(f'wrote {out}')


if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[2] == '--quantize-only':
        for name in ('vision_model', 'text_model'):
            folder = os.path.join(sys.argv[1], 'onnx')
            quantize_dynamic_matmuls(os.path.join(folder, name + '.onnx'), os.path.join(folder, name + '_quantized.onnx'))
    else:
        main(sys.argv[1])
