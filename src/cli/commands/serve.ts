// `agiqa serve`: loads the configuration, starts the server on the pack (loading it in the
// background so /v1/health can say "starting"), and shuts down gracefully on SIGTERM/SIGINT.
import pino from 'pino';
import { startComfyBridges, type RunningBridges } from '../../bridges/comfyui/index.js';
import { loadConfig } from '../../config/index.js';
import { assertSafeBind, startServer } from '../../server/index.js';
import { commandLine } from '../args.js';
import { isAgiqaBin, mallocTuningPlan, runsOnGlibc, superviseChild, watchSupervisor } from '../malloc-supervisor.js';
import { createServingScorer } from '../serving-scorer.js';
import { reportFatal } from '../main.js';

const USAGE = `Usage: agiqa serve [--host H] [--port P] [--pack NAME] [--home DIR] [--config FILE] [--comfyui URL]...

Runs the scoring server (HTTP API on /v1, WebSocket events on /v1/events).
  --host H        address to bind (default 127.0.0.1; any other needs a token: AGIQA_TOKEN)
  --port P        port (default 8420; 0 picks a free one)
  --pack NAME     model pack (default lite)
  --home DIR      data directory (default $AGIQA_HOME or ~/.agiqa)
  --config FILE   config file (default $AGIQA_CONFIG or ./agiqa.config.json)
  --comfyui URL   watch the ComfyUI at URL (e.g. http://127.0.0.1:8188) and score every output;
                  repeatable; options per instance in the config key "comfyui" (docs/comfyui-bridge.md)
  --no-malloc-tuning
                  on Linux/glibc, do not restart with the malloc setting that keeps image buffers
                  mapped (also AGIQA_MALLOC_TUNING=off; see docs/server.md)`;

const cli = commandLine({
  name: 'serve',
  help: USAGE,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    pack: { type: 'string' },
    home: { type: 'string' },
    config: { type: 'string' },
    comfyui: { type: 'string', multiple: true },
    'no-malloc-tuning': { type: 'boolean', default: false },
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (values.port !== undefined && !/^\d+$/.test(values.port)) return cli.usageError(`--port expects a whole number, received "${values.port}"`);
  // glibc reads its malloc settings at start only: run once more with them, and supervise that process.
  if (isAgiqaBin()) {
    const plan = mallocTuningPlan(process.env, { platform: process.platform, glibc: process.platform === 'linux' && runsOnGlibc() }, values['no-malloc-tuning'] === true);
    if (plan.reexec) return superviseChild(plan.env);
  }
  const { config, file } = loadConfig({
    flags: { host: values.host, port: values.port === undefined ? undefined : Number(values.port), pack: values.pack, home: values.home, config: values.config, comfyui: values.comfyui },
  });
  // Logs go to stderr; stdout carries only the one "listening" line that scripts may read.
  const logger = pino({ level: config.logLevel, base: { service: 'agiqa' } }, pino.destination(2));
  if (file !== null) logger.info({ file }, 'configuration file read');

  // Refuse an unsafe bind before any worker thread exists (they would keep the process alive).
  assertSafeBind(config);
  // The configured pack, or with `cascade` in the config the fast pack and the judge composed.
  const serving = createServingScorer(config, logger);
  const scorer = serving.scorer;
  scorer.catch(() => undefined); // reported below and by /v1/health; never an unhandled rejection
  let server;
  try {
    server = await startServer({ config, scorer, logger, registerMetrics: serving.registerMetrics });
  } catch (error) {
    // A busy port or a broken store: stop the workers the pack started, then report.
    await scorer.then((ready) => ready.close(), () => undefined);
    throw error;
  }
  process.stdout.write(`agiqa serve: listening on ${server.url} (pack ${config.pack}, home ${config.home})\n`);

  // The bridges start once the pack has loaded: they score from their first catch-up on, through the
  // server's pipeline, which reads the live policy. A change of the ComfyUI targets from the dashboard
  // restarts them (their cursor is in the store, so nothing is scored twice or missed).
  const startBridges = (): Promise<RunningBridges | null> => {
    const { comfyui } = server.settings.current;
    if (comfyui.length === 0) return Promise.resolve(null);
    return scorer.then(
      () =>
        startComfyBridges({
          instances: comfyui,
          pipeline: server.service,
          store: server.store,
          logger: logger.child({ bridge: 'comfyui' }),
        }),
      () => null,
    );
  };
  let bridges: Promise<RunningBridges | null> = startBridges();
  server.settings.onChange((next, previous) => {
    if (JSON.stringify(next.comfyui) === JSON.stringify(previous.comfyui)) return;
    bridges = bridges
      .then((running) => running?.stop())
      .catch((error: unknown) => logger.warn({ err: error }, 'a bridge did not stop cleanly'))
      .then(() => startBridges());
    logger.info('ComfyUI targets changed: bridges restarted with them');
  });

  return new Promise<number>((resolve) => {
    let exitCode = 0;
    const shutdown = (signal: string) => {
      if (signal !== 'pack') logger.info({ signal }, 'signal received');
      // Bridges first: they write to the store the server closes.
      bridges
        .then((running) => running?.stop())
        .then(() => server.close())
        .then(
        () => resolve(exitCode),
        (error: unknown) => resolve(reportFatal(error)),
      );
    };
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      // A second signal means "now": leave without waiting for in-flight work.
      process.once(signal, () => process.exit(1));
      shutdown(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // Under the malloc supervisor: its disappearance (SIGKILL) is a shutdown request too.
    watchSupervisor(() => onSignal('SIGTERM'));
    scorer.catch((error: unknown) => {
      exitCode = reportFatal(error);
      shutdown('pack');
    });
  });
}
