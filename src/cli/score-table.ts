// The human-readable table of `agiqa score`: one row per image, aspects as "MOS level".
import type { AspectResult, ScoreResult } from '../scoring/index.js';

function aspectCell(aspect: AspectResult): string {
  return aspect.mos === null ? '—' : `${aspect.mos.toFixed(2)} ${aspect.level}`;
}

export function formatScoreTable(rows: { file: string; result: ScoreResult }[], colour: boolean): string {
  const header = ['image', 'MOS', 'level', 'quality', 'correspondence', 'authenticity', 'findings'];
  const body = rows.map(({ file, result }) => [
    file,
    result.mos.toFixed(2),
    result.level,
    aspectCell(result.aspects.quality),
    aspectCell(result.aspects.correspondence),
    aspectCell(result.aspects.authenticity),
    // Informational findings (e.g. a warm colour balance) stay in --json; the table shows problems.
    result.findings.filter((f) => f.severity !== 'info').map((f) => f.text).join('; ') || '—',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const bold = (s: string) => (colour ? `\u001b[1m${s}\u001b[0m` : s);
  const notes = new Set(
    rows.flatMap(({ result }) =>
      (['correspondence', 'authenticity'] as const).flatMap((a) => {
        const aspect = result.aspects[a];
        return aspect.mos === null ? [`${a}: ${aspect.reason}`] : [];
      }),
    ),
  );
  // A judge's findings are its one-sentence analyses: too long for a column, so listed per image below.
  const judged = rows.flatMap(({ file, result }) => {
    const said = result.findings.filter((f) => f.code === 'judge-description');
    return said.length === 0 ? [] : ['', `${file} (judge ${result.judge?.model ?? ''}):`, ...said.map((f) => `  ${f.aspect}: ${f.text}`)];
  });
  return [bold(line(header)), ...body.map(line), ...judged, ...(notes.size > 0 ? ['', ...[...notes].map((n) => `— ${n}`)] : [])].join('\n');
}
