// `agiqa plugins install --comfyui <dir> | --a1111 <dir> [--link] [--force]`: puts the ComfyUI node pack
// or the AUTOMATIC1111/Forge extension from plugin-manifest/ into that UI's folder and says what it did.
import { commandLine } from '../args.js';
import { EXIT, reportFatal } from '../main.js';
import { HOSTS, INSTALL_NAME, installPlugin, PLUGIN_MANIFEST_DIR, type HostName } from '../plugin-install.js';

const HELP = `Usage: agiqa plugins install (--comfyui <ComfyUI dir> | --a1111 <webui dir>) [--link] [--force]

Installs the plugin that runs inside a generation UI and talks to \`agiqa serve\`:
  --comfyui DIR   the node pack, into DIR/${HOSTS.comfyui.pluginsFolder}/${INSTALL_NAME} (DIR holds main.py and ${HOSTS.comfyui.pluginsFolder}/)
  --a1111 DIR     the AUTOMATIC1111/Forge extension, into DIR/${HOSTS.a1111.pluginsFolder}/${INSTALL_NAME} (DIR holds webui.py and ${HOSTS.a1111.pluginsFolder}/)
  --link          link to this package's copy instead of copying (follows updates of agiqa)
  --force         replace an existing DIR/…/${INSTALL_NAME} that differs (only that folder is removed)
  -h, --help      show this help

Nothing else in the UI's folder is changed. The plugin needs the scoring server: \`npx agiqa serve\`.`;

const cli = commandLine({
  name: 'plugins',
  help: HELP,
  options: {
    comfyui: { type: 'string' },
    a1111: { type: 'string' },
    link: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
  },
  positionals: true,
});

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [action, ...extra] = positionals;
  if (action !== 'install') return cli.usageError(action === undefined ? 'agiqa plugins needs an action: install' : `unknown action "${action}" (expected install)`);
  if (extra.length > 0) return cli.usageError(`agiqa plugins install takes no positional arguments but received "${extra.join(' ')}"`);
  const targets: [HostName, string][] = [];
  if (values.comfyui !== undefined) targets.push(['comfyui', values.comfyui]);
  if (values.a1111 !== undefined) targets.push(['a1111', values.a1111]);
  if (targets.length === 0) return cli.usageError('agiqa plugins install needs --comfyui <ComfyUI dir> or --a1111 <webui dir>');
  for (const [, dir] of targets) if (dir.trim() === '') return cli.usageError('Expected a folder path after --comfyui/--a1111 but received an empty string');

  try {
    for (const [name, dir] of targets) {
      const report = await installPlugin(name, dir, { link: values.link, force: values.force });
      process.stdout.write(`${report.ui} at ${report.host}:\n`);
      for (const action of report.actions) process.stdout.write(`  ${action}\n`);
      if (values.link && /[\\/]_npx[\\/]/.test(PLUGIN_MANIFEST_DIR)) {
        process.stdout.write('  note: the link points into npx\'s cache, which npm may clear; install m3-agiqa for good or copy instead\n');
      }
      process.stdout.write(`  next: ${report.next}; start the scorer with \`npx agiqa serve\`\n`);
    }
    return EXIT.ok;
  } catch (error) {
    return reportFatal(error);
  }
}
