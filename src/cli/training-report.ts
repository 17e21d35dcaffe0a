// What `agiqa train` and `agiqa distill` print: the judge-labelling progress (a bar on a terminal, one
// estimate line in logs) and the training summary (pack, split, the ablation on the test split).
import cliProgress from 'cli-progress';
import { formatMetricsTable } from '../evaluation/evaluate.js';
import type { LabelProgress } from '../evaluation/teacher-labels.js';
import type { Candidate, TrainResult } from '../evaluation/train-predictor.js';

function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** A bar on a terminal; in logs one line with the estimate once it is known, and one at the end. */
export function labelProgressReporter(tty: boolean): (p: LabelProgress) => void {
  const bar = tty
    ? new cliProgress.SingleBar({ clearOnComplete: true, hideCursor: true, format: 'labels [{bar}] {value}/{total} · {pace}' }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  let estimated = false;
  return (p) => {
    const pace = p.secondsPerImage === null ? 'estimating…' : `${p.secondsPerImage.toFixed(1)} s/image · ~${duration(p.etaSeconds!)} left`;
    if (bar !== undefined) {
      if (!started) bar.start(p.total, p.done, { pace });
      else bar.update(p.done, { pace });
      started = true;
      if (p.done === p.total) bar.stop();
      return;
    }
    if (!estimated && p.secondsPerImage !== null) {
      estimated = true;
      process.stderr.write(`labels   ${p.done}/${p.total} · ${p.secondsPerImage.toFixed(1)} s per image with the judge → about ${duration(p.etaSeconds!)} for the rest\n`);
    }
  };
}

/** The train summary on stdout (pack, split, the ablation on test) and skipped images on stderr. */
export function writeTrainReport(result: TrainResult, baseName: string, seed: number): void {
  const out = process.stdout;
  const { split } = result.manifest.training as { split: { scheme: string; counts: { train: number; val: number; test: number } } };
  out.write(`pack     ${result.manifest.name} → ${result.packDir}\n`);
  out.write(`split    ${split.scheme}; seed ${seed} · train ${split.counts.train} · val ${split.counts.val} · test ${split.counts.test}\n`);
  out.write(`features ${result.cachedFeatures} of ${split.counts.train + split.counts.val + split.counts.test} from the cache\n\n`);
  const labels: Record<Candidate, string> = { xlstm: 'xLSTM predictor', mlp: 'MLP on mean-pooled tokens', head: `${baseName}'s own head` };
  for (const candidate of Object.keys(result.ablation.test) as Candidate[]) {
    const marker = candidate === result.winner ? ' (shipped)' : '';
    out.write(`test split — ${labels[candidate]}${marker}\n${formatMetricsTable(result.ablation.test[candidate] ?? {})}\n\n`);
  }
  out.write(`selected on the ${(result.manifest.metrics.ablation as { selectedOn: string }).selectedOn} split: ${labels[result.winner]}\n`);
  if (result.skipped.length > 0) {
    process.stderr.write(`agiqa: ${result.skipped.length} image(s) skipped: ${result.skipped.slice(0, 5).map((s) => `${s.name} (${s.reason})`).join('; ')}${result.skipped.length > 5 ? '; …' : ''}\n`);
  }
}
