import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { readMultipart } from '../../src/server/multipart-body.js';
import type { InputLimits } from '../../src/server/request-body.js';
import { readerServer, type ReaderServer } from '../fixtures/server/reader-server.js';

let server: ReaderServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const LIMITS: InputLimits = { maxBodyBytes: 10_000, maxImageBytes: 1_000 };

async function serve(limits = LIMITS, maxFiles = 4): Promise<string> {
  server = await readerServer(async (request) => {
    const { files, fields } = await readMultipart(request, limits, maxFiles);
    return { files: files.map((file) => ({ field: file.field, filename: file.filename, bytes: [...file.bytes], sha256: file.sha256 })), fields: Object.fromEntries(fields) };
  });
  return server.url;
}

const post = async (url: string, form: FormData) => (await (await fetch(url, { method: 'POST', body: form })).json()) as any;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('readMultipart', () => {
  it('reads files in order with their hashes, and the fields', async () => {
    const url = await serve();
    const form = new FormData();
    form.set('prompt', 'a red car');
    form.append('image', new Blob([Uint8Array.from([1, 2, 3])]), 'a.png');
    form.append('image', new Blob([Uint8Array.from([4, 5])]), 'b.png');
    const { value } = await post(url, form);
    expect(value.fields).toEqual({ prompt: 'a red car' });
    expect(value.files).toEqual([
      { field: 'image', filename: 'a.png', bytes: [1, 2, 3], sha256: sha256(Uint8Array.from([1, 2, 3])) },
      { field: 'image', filename: 'b.png', bytes: [4, 5], sha256: sha256(Uint8Array.from([4, 5])) },
    ]);
  });

  it('reads a raw frame whose layout came first whole, and one of another size too', async () => {
    const url = await serve();
    const form = new FormData();
    form.set('width', '2');
    form.set('height', '2');
    form.set('channels', '3');
    const frame = Uint8Array.from({ length: 12 }, (_, index) => index);
    form.append('pixels', new Blob([frame]), 'f0');
    form.append('pixels', new Blob([frame.subarray(0, 5)]), 'f1');
    const { value } = await post(url, form);
    expect(value.files.map((file: any) => file.bytes)).toEqual([[...frame], [...frame.subarray(0, 5)]]);
  });

  it('refuses a file over maxImageBytes, too many files, a field too long and a body over maxBodyBytes, each with its code', async () => {
    const url = await serve({ maxBodyBytes: 3_000, maxImageBytes: 1_000 }, 2);
    const big = new FormData();
    big.append('image', new Blob([new Uint8Array(1_001)]), 'big.png');
    expect((await post(url, big)).error.code).toBe('AGQ_ERR_IMAGE_TOO_LARGE');

    const many = new FormData();
    for (let index = 0; index < 3; index += 1) many.append('image', new Blob([Uint8Array.from([index])]), `${index}.png`);
    expect((await post(url, many)).error).toMatchObject({ code: 'AGQ_ERR_INVALID_INPUT', issues: ['at most 2 image file(s) per request'] });

    const body = new FormData();
    for (let index = 0; index < 4; index += 1) body.append('image', new Blob([new Uint8Array(900)]), `${index}.png`);
    expect((await post(await serve({ maxBodyBytes: 3_000, maxImageBytes: 1_000 }, 8), body)).error.code).toBe('AGQ_ERR_SERVER_BODY_TOO_LARGE');

    const long = new FormData();
    long.set('text', 'x'.repeat(2 * 1024 * 1024 + 1));
    expect((await post(await serve({ maxBodyBytes: 4 * 1024 * 1024, maxImageBytes: 1_000 }), long)).error).toMatchObject({ code: 'AGQ_ERR_INVALID_INPUT', issues: ['text: the field is too long'] });
  });

  it('refuses a body that is not multipart with AGQ_ERR_INVALID_INPUT', async () => {
    const url = await serve();
    const answer = (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' })).json()) as any;
    expect(answer.error.code).toBe('AGQ_ERR_INVALID_INPUT');
  });
});
