// The model-server double in its own process for bench/judge.bench.ts (a model server is another
// process in real use: it must not share the scorer's event loop). Prints its URL as one JSON line.
import { startJudgeDouble } from '../test/fixtures/judge/judge-double.js';

const double = await startJudgeDouble({ flavor: 'llama.cpp', delayMs: Number(process.env.JUDGE_DELAY_MS ?? 0) });
process.stdout.write(`${JSON.stringify({ url: double.url })}\n`);
process.on('disconnect', () => void double.close().then(() => process.exit(0)));
process.on('SIGTERM', () => void double.close().then(() => process.exit(0)));
