// The model-server client against the double: retries with doubling delays on 429/5xx/dropped
// connections (bounded), no retry where another attempt cannot help, each failure's code, and the
// log-probability shapes of Ollama/OpenAI and llama.cpp.
import { afterEach, describe, expect, it } from 'vitest';
import { chatCompletion, errorMessageOf, RequestLimiter, tokensOf, type ChatRequest, type JudgeServer } from '../../../src/model/judge/judge-client.js';
import { closedPort } from '../../fixtures/closed-port.js';
import { startJudgeDouble, type RunningDouble } from '../../fixtures/judge/judge-double.js';

let double: RunningDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

function serverAt(url: string, changes: Partial<JudgeServer> = {}): JudgeServer {
  return { url, flavor: 'llama.cpp', model: 'minicpm-v:8b', apiKeyEnv: null, concurrency: 1, timeoutMs: 2_000, retries: 3, backoffMs: 100, ...changes };
}

const RATE: ChatRequest = {
  messages: [
    { role: 'user', content: 'Describe it.' },
    { role: 'assistant', content: 'A fox.' },
    { role: 'user', content: 'Rate it with one word.' },
  ],
  maxTokens: 4,
  temperature: 0,
  seed: 0,
  topLogprobs: 5,
};

/** A sleep that records the delays asked for instead of waiting. */
function recordingSleep(): { delays: number[]; sleep: (ms: number) => Promise<void> } {
  const delays: number[] = [];
  return { delays, sleep: async (ms) => void delays.push(ms) };
}

describe('chatCompletion', () => {
  it('retries 429 and 5xx with doubling delays, then answers', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    double.failNext({ status: 429, body: { error: { code: 429, message: 'too many requests', type: 'rate_limit_error' } } }, { status: 500, body: { error: { code: 500, message: 'boom', type: 'server_error' } } }, 'drop');
    const { delays, sleep } = recordingSleep();
    const answer = await chatCompletion(serverAt(double.url), RATE, { sleep });
    expect(answer.attempts).toBe(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(answer.content).toBe('Good');
    expect(answer.tokens![0]!.top.map((t) => t.token)).toEqual(['Good', 'Excellent', ' good', 'Fair', 'Poor']);
  });

  it('gives up after the bounded retries with the last failure, coded', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    const busy = { status: 503, body: { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } } };
    double.failNext(busy, busy, busy);
    const { delays, sleep } = recordingSleep();
    await expect(chatCompletion(serverAt(double.url, { retries: 2 }), RATE, { sleep })).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_LOADING', message: expect.stringContaining('Loading model') });
    expect(double.chatRequests()).toHaveLength(3);
    expect(delays).toEqual([100, 200]);

    double.failNext('drop', 'drop');
    await expect(chatCompletion(serverAt(double.url, { retries: 1 }), RATE, { sleep })).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_UNREACHABLE' });

    double.failNext({ status: 502, body: { error: { message: 'bad gateway', type: 'api_error', param: null, code: null } } }, { status: 502, body: 'upstream down' });
    await expect(chatCompletion(serverAt(double.url, { retries: 1 }), RATE, { sleep })).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_REFUSED', status: 502, message: expect.stringContaining('HTTP 502 (upstream down)') });
  });

  it('does not retry what another attempt cannot fix: 4xx, a missing model, no vision', async () => {
    double = await startJudgeDouble({ flavor: 'ollama' });
    const { delays, sleep } = recordingSleep();
    await expect(chatCompletion(serverAt(double.url, { flavor: 'ollama' }), { ...RATE, topLogprobs: 21 }, { sleep })).rejects.toMatchObject({
      code: 'AGQ_ERR_JUDGE_REFUSED',
      message: expect.stringContaining('HTTP 400 (top_logprobs must be between 0 and 20)'),
    });
    await expect(chatCompletion(serverAt(double.url, { flavor: 'ollama', model: 'llava:7b' }), RATE, { sleep })).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_MODEL_NOT_FOUND' });
    const withHttpImage: ChatRequest = { ...RATE, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://example.com/a.png' } }, { type: 'text', text: 'Describe it.' }] }] };
    await expect(chatCompletion(serverAt(double.url, { flavor: 'ollama' }), withHttpImage, { sleep })).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_REFUSED', status: 502 });
    double.set({ vision: false });
    const withImage: ChatRequest = { ...RATE, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }] };
    await expect(chatCompletion(serverAt(double.url, { flavor: 'ollama' }), withImage, { sleep })).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_NO_VISION', message: expect.stringContaining('missing data required for image input') });
    expect(delays).toEqual([]);
    expect(double.chatRequests()).toHaveLength(4);
  });

  it('times out a slow answer without retrying it, and reports a closed port as unreachable', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp', delayMs: 500 });
    const started = Date.now();
    await expect(chatCompletion(serverAt(double.url, { timeoutMs: 150 }), RATE)).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_TIMEOUT', message: expect.stringContaining('within 150 ms') });
    expect(Date.now() - started).toBeLessThan(450);
    expect(double.chatRequests()).toHaveLength(1);
    await expect(chatCompletion(serverAt(await closedPort(), { retries: 1, backoffMs: 1 }), RATE)).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('refuses a 200 answer that is not a chat completion', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    double.failNext({ status: 200, body: { choices: [] } });
    await expect(chatCompletion(serverAt(double.url), RATE)).rejects.toMatchObject({ code: 'AGQ_ERR_JUDGE_BAD_ANSWER', message: expect.stringContaining('no choices[0].message.content') });
  });

  it('sends the API key named by apiKeyEnv as a Bearer token', async () => {
    const seen: string[] = [];
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ choices: [{ message: { content: 'good' } }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AGIQA_TEST_JUDGE_KEY = 'sk-test-123';
    try {
      const port = (server.address() as { port: number }).port;
      const answer = await chatCompletion(serverAt(`http://127.0.0.1:${port}`, { apiKeyEnv: 'AGIQA_TEST_JUDGE_KEY' }), RATE);
      expect(answer).toEqual({ content: 'good', tokens: null, attempts: 1 });
      expect(seen).toEqual(['Bearer sk-test-123']);
    } finally {
      delete process.env.AGIQA_TEST_JUDGE_KEY;
      server.close();
    }
  });
});

describe('tokensOf', () => {
  it('reads the OpenAI/Ollama shape and llama.cpp post-sampling probabilities alike', () => {
    const openai = tokensOf({ content: [{ token: ' Good', logprob: Math.log(0.5), bytes: [], top_logprobs: [{ token: ' Good', logprob: Math.log(0.5) }, { token: 'good', logprob: Math.log(0.25) }] }] });
    const llama = tokensOf({ content: [{ id: 1, token: ' Good', prob: 0.5, top_probs: [{ id: 1, token: ' Good', prob: 0.5 }, { id: 2, token: 'good', prob: 0.25 }] }] });
    expect(llama).toEqual(openai);
    expect(openai![0]!.top[1]!.logprob).toBeCloseTo(Math.log(0.25), 12);
  });

  it('is null when there are no log-probabilities to read', () => {
    expect(tokensOf(undefined)).toBeNull();
    expect(tokensOf(null)).toBeNull();
    expect(tokensOf({ content: [] })).toBeNull();
    expect(tokensOf({ content: [{ text: 'x' }] })).toBeNull();
  });
});

describe('errorMessageOf', () => {
  it('reads llama.cpp, Ollama /v1, Ollama native and plain-text error bodies', () => {
    expect(errorMessageOf('{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}')).toBe('Loading model');
    expect(errorMessageOf('{"error":{"message":"model not found","type":"api_error","param":null,"code":null}}')).toBe('model not found');
    expect(errorMessageOf('{"error":"this model is missing data required for image input"}')).toBe('this model is missing data required for image input');
    expect(errorMessageOf('Bad Gateway')).toBe('Bad Gateway');
  });
});

describe('RequestLimiter', () => {
  it('runs at most its limit at once and keeps the order of waiters', async () => {
    const limiter = new RequestLimiter(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        limiter.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          order.push(i);
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('requestBody', () => {
  it('splices a base64 data URL in as bytes and gives the JSON that JSON.stringify would', async () => {
    const { requestBody } = await import('../../../src/model/judge/judge-client.js');
    const server = serverAt('http://127.0.0.1:1');
    const image = `data:image/png;base64,${Buffer.from('not really a png').toString('base64')}`;
    const request: ChatRequest = {
      ...RATE,
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }, { type: 'text', text: 'a "quoted" prompt \u0001' }] }, ...RATE.messages.slice(1)],
    };
    const plain = { model: 'minicpm-v:8b', messages: request.messages, temperature: 0, max_tokens: 4, stream: false, seed: 0, logprobs: true, top_logprobs: 5, n_probs: 5 };
    expect(requestBody(server, request).toString()).toBe(JSON.stringify(plain));
    // Anything but a base64 data URL goes through JSON.stringify as it is.
    const other: ChatRequest = { ...request, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/"a".png' } }] }] };
    expect(JSON.parse(requestBody(server, other).toString()).messages[0].content[0].image_url.url).toBe('http://x/"a".png');
  });
});
