"""Generates test/fixtures/tiny-clip/: a CLIP model with random weights and the file layout of the
Xenova/clip-vit-base-patch32 repository (config.json, preprocessor_config.json, tokenizer files,
onnx/{vision,text}_model{,_quantized}.onnx with the real input/output names), a few tens of kB,
so that every CLIP code path runs in CI without a download.

Run: /usr/bin/python3 training/clip/make_tiny_clip.py [out_dir]
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clip_towers import TextTower, VisionTower, export_text, export_vision, quantize_weights  # noqa: E402
from clip_tokenizer import write_tokenizer  # noqa: E402

# Words the anchor texts and test prompts use, so the tiny vocabulary has real merges in it.
CORPUS = """
a photo of bad poor fair good excellent quality image picture red umbrella cat dog sitting on the under
rain street blurry sharp detailed noisy low high resolution real scene artwork painting generated artifacts
distorted hands faces extra fingers smooth plastic texture camera natural lighting a an and with in of
"""

IMAGE_SIZE, PATCH, WIDTH, LAYERS, HEADS, PROJECTION, MAX_POSITIONS = 16, 8, 8, 1, 2, 8, 77


def main(out):
    os.makedirs(os.path.join(out, 'onnx'), exist_ok=True)
    torch.manual_seed(20250221)
    vocab_size = write_tokenizer(out, CORPUS, merge_count=48)
    eot = vocab_size - 1
    vision = VisionTower(IMAGE_SIZE, PATCH, WIDTH, LAYERS, HEADS, PROJECTION)
    text = TextTower(vocab_size, MAX_POSITIONS, WIDTH, LAYERS, HEADS, PROJECTION)
    with torch.no_grad():
        export_vision(vision, os.path.join(out, 'onnx', 'vision_model.onnx'), IMAGE_SIZE)
        export_text(text, os.path.join(out, 'onnx', 'text_model.onnx'), eot)
    quantize_weights(os.path.join(out, 'onnx', 'vision_model.onnx'), os.path.join(out, 'onnx', 'vision_model_quantized.onnx'))
    quantize_weights(os.path.join(out, 'onnx', 'text_model.onnx'), os.path.join(out, 'onnx', 'text_model_quantized.onnx'))

    config = {
        '_name_or_path': 'tiny-clip (random weights, test fixture)',
        'architectures': ['CLIPModel'],
        'model_type': 'clip',
        'projection_dim': PROJECTION,
        'logit_scale_init_value': 2.6592,
        'text_config': {'model_type': 'clip_text_model', 'vocab_size': vocab_size, 'hidden_size': WIDTH,
                        'num_hidden_layers': LAYERS, 'num_attention_heads': HEADS, 'intermediate_size': WIDTH * 4,
                        'max_position_embeddings': MAX_POSITIONS, 'hidden_act': 'quick_gelu',
                        'bos_token_id': vocab_size - 2, 'eos_token_id': eot, 'pad_token_id': 1,
                        'projection_dim': PROJECTION},
        'vision_config': {'model_type': 'clip_vision_model', 'image_size': IMAGE_SIZE, 'patch_size': PATCH,
                          'hidden_size': WIDTH, 'num_hidden_layers': LAYERS, 'num_attention_heads': HEADS,
                          'intermediate_size': WIDTH * 4, 'hidden_act': 'quick_gelu', 'projection_dim': PROJECTION},
    }
    preprocessor = {
        'crop_size': IMAGE_SIZE, 'do_center_crop': True, 'do_normalize': True, 'do_resize': True,
        'feature_extractor_type': 'CLIPFeatureExtractor',
        'image_mean': [0.48145466, 0.4578275, 0.40821073], 'image_std': [0.26862954, 0.26130258, 0.27577711],
        'resample': 3, 'size': IMAGE_SIZE,
    }
    with open(os.path.join(out, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(out, 'preprocessor_config.json'), 'w') as f:
        json.dump(preprocessor, f, indent=2)
    print(f'wrote {out} (vocabulary {vocab_size})')


if __name__ == '__main__':
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, 'test', 'fixtures', 'tiny-clip'))
