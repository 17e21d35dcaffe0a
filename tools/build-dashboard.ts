// Builds the dashboard page (web/dashboard) into dist/dashboard with esbuild: one script and one
// stylesheet, uPlot bundled from node_modules, nothing fetched at run time. Part of `npm run build`.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = `${root}dist/dashboard`;

rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });
const result = await build({
  entryPoints: { app: `${root}web/dashboard/src/main.ts` },
  outdir: `${out}/assets`,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(`${root}web/dashboard/index.html`, `${out}/index.html`);
const bytes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, info]) => `${file.replace(`${root}`, '')} ${(info.bytes / 1024).toFixed(1)} kB`);
process.stdout.write(`dashboard built: ${bytes.join(', ')}\n`);
