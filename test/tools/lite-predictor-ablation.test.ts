// training/lite/predictor_ablation.py (what report.py keeps of the M3 predictor's measurements in
// training/predictor/lite-ablation.json): its unittest suite, run with Debian's python.
import { describe, expect, it } from 'vitest';
import { ROOT, runPython } from '../plugins/run-python.js';

describe('lite-ablation.json: the predictor measurement, current and earlier', () => {
  it('passes training/lite/test_predictor_ablation.py', async () => {
    const run = await runPython(['-m', 'unittest', 'discover', '-s', `${ROOT}training/lite`, '-p', 'test_predictor_ablation.py', '-v']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Ran \d+ tests/);
    expect(run.output).not.toMatch(/skipped=/);
  });
});
