// `npm run bench`: runs each benchmark in its own process (so peak RSS is its own), then rewrites
// BENCHMARKS.md from bench/results/*.json. `npm run bench -- scoring signals` runs a subset.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('./', import.meta.url));
const all = readdirSync(benchDir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort();
const wanted = process.argv.slice(2);
const chosen = wanted.length > 0 ? all.filter((name) => wanted.includes(name)) : all;

// Benchmarks that start `agiqa serve` run the built CLI (bin/agiqa.js → dist/): build it from this src/ first.
const build = spawnSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', fileURLToPath(new URL('../tsconfig.build.json', import.meta.url))], { stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write('bench: `tsc -p tsconfig.build.json` failed; fix the build first\n');
  process.exit(1);
}

let failed = 0;
for (const name of chosen) {
  process.stderr.write(`\n== bench ${name}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${benchDir}${name}.bench.ts`], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`bench ${name} failed with exit code ${run.status}\n`);
  }
}
const report = spawnSync(process.execPath, ['--import', 'tsx', `${benchDir}report.ts`], { stdio: 'inherit' });
process.exitCode = failed > 0 || report.status !== 0 ? 1 : 0;
