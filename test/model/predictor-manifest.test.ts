import { describe, expect, it } from 'vitest';
import { packManifestSchema } from '../../src/model/pack-manifest.js';
import { predictorManifestSchema } from '../../src/model/predictor-manifest.js';

const predictor = {
  file: 'predictor.onnx',
  kind: 'xlstm',
  tokenGrid: 3,
  tokenDim: 1280,
  evidence: { quality: 'signals' },
  evidenceWidth: 72,
  outputs: ['quality', 'correspondence', 'authenticity', 'overall'],
};

const file = (path: string) => ({ path, sha256: 'a'.repeat(64), bytes: 1, license: 'MIT', source: 'test' });

const pack = {
  schemaVersion: 1,
  name: 'lite',
  version: '1.0.0',
  description: '',
  license: 'MIT',
  aspects: ['quality'],
  files: [file('quality.onnx'), file('predictor.onnx')],
  input: { kind: 'lite-crops', cropSize: 224, crops: 3, signalsVersion: 'signals-1', signalCount: 72 },
  models: { quality: { file: 'quality.onnx' } },
  predictor,
  training: {},
  metrics: {},
};

describe('pack.json predictor entry', () => {
  it('accepts a predictor entry and null', () => {
    expect(packManifestSchema.safeParse(pack).success).toBe(true);
    expect(packManifestSchema.safeParse({ ...pack, predictor: null }).success).toBe(true);
  });

  it('refuses a predictor file missing from files[], an unknown kind, an unknown aspect and stray keys', () => {
    const missing = packManifestSchema.safeParse({ ...pack, files: [file('quality.onnx')] });
    expect(missing.success).toBe(false);
    expect(missing.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain('predictor.file: predictor.onnx is not listed in files[]');
    expect(predictorManifestSchema.safeParse({ ...predictor, kind: 'transformer' }).success).toBe(false);
    expect(predictorManifestSchema.safeParse({ ...predictor, evidence: { beauty: 'signals' } }).success).toBe(false);
    expect(predictorManifestSchema.safeParse({ ...predictor, tokenGrid: 9 }).success).toBe(false);
    expect(predictorManifestSchema.safeParse({ ...predictor, extra: 1 }).success).toBe(false);
  });

  it('keeps the feature layout versioned: a known version, its image-token source and column names', () => {
    const features = { version: 'judge/1', imageTokens: { source: 'lite-spatial', pack: { name: 'lite', version: '1.2.0' } }, rounds: { quality: ['entropy', 'expected_mos', 'logprobs_given'] } };
    expect(predictorManifestSchema.safeParse({ ...predictor, evidence: { quality: 'judge' }, features, aspects: ['quality'] }).success).toBe(true);
    expect(predictorManifestSchema.safeParse({ ...predictor, features: { ...features, version: 'judge/2' } }).success).toBe(false);
    expect(predictorManifestSchema.safeParse({ ...predictor, features: { ...features, imageTokens: { source: 'siglip-patches' } } }).success).toBe(false);
    expect(predictorManifestSchema.safeParse({ ...predictor, features: { ...features, extra: true } }).success).toBe(false);
    expect(predictorManifestSchema.safeParse({ ...predictor, aspects: [] }).success).toBe(false);
  });
});
