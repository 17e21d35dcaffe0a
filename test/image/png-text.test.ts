import { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MAX_METADATA_TEXT_BYTES, readPngText, withoutTextChunks } from '../../src/image/index.js';
import { chunk, iTextChunk, splitChunks, textChunk, withChunks, zTextChunk } from '../fixtures/image/png-chunks.js';
import { manyZtxtChunks, repeatedZtxtChunks, zlibBombChunk, zlibZeros } from '../fixtures/hostile/hostile-inputs.js';

const base = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer();

describe('readPngText', () => {
  it('reads tEXt, zTXt and iTXt (plain and compressed); compressed chunks only for prompt keywords', () => {
    const png = withChunks(base, [
      textChunk('prompt', '{"a":1}'),
      zTextChunk('workflow', '{"nodes":[]}'),
      iTextChunk('parameters', 'Grüße 🌊'),
      iTextChunk('sd-metadata', 'zipped ünïcode', true),
      iTextChunk('Comment', 'not a prompt: never inflated', true),
      zTextChunk('Software', 'not a prompt: never inflated'),
      iTextChunk('Title', 'plain text of any keyword is kept'),
    ]);
    expect(readPngText(png)).toEqual({
      text: {
        prompt: '{"a":1}',
        workflow: '{"nodes":[]}',
        parameters: 'Grüße 🌊',
        'sd-metadata': 'zipped ünïcode',
        Title: 'plain text of any keyword is kept',
      },
      problem: null,
    });
  });

  it('reads Latin-1 tEXt as Latin-1 and UTF-8 written into tEXt as UTF-8', () => {
    const latin = chunk('tEXt', Buffer.concat([Buffer.from('Title\0', 'latin1'), Buffer.from('café', 'latin1')]));
    const utf8 = chunk('tEXt', Buffer.concat([Buffer.from('Author\0', 'latin1'), Buffer.from('彩虹', 'utf8')]));
    expect(readPngText(withChunks(base, [latin, utf8])).text).toEqual({ Title: 'café', Author: '彩虹' });
  });

  it('reads only the keyword asked for, without inflating or decoding the others', () => {
    const png = withChunks(base, [zTextChunk('prompt', '{"big":"graph"}'), textChunk('workflow', '{}'), textChunk('agiqa', '{"generation_id":7}')]);
    expect(readPngText(png, MAX_METADATA_TEXT_BYTES, 'agiqa')).toEqual({ text: { agiqa: '{"generation_id":7}' }, problem: null });
    expect(readPngText(png, MAX_METADATA_TEXT_BYTES, 'missing').text).toEqual({});
  });

  it('keeps the first chunk of a repeated keyword', () => {
    expect(readPngText(withChunks(base, [textChunk('k', 'first'), textChunk('k', 'second')])).text).toEqual({ k: 'first' });
  });

  it('skips a zip bomb under another keyword and damaged chunks without throwing', () => {
    const bomb = chunk('zTXt', Buffer.concat([Buffer.from('bomb\0\0', 'latin1'), deflateSync(Buffer.alloc(17 * 1024 * 1024), { level: 1 })]));
    const broken = chunk('zTXt', Buffer.from('prompt\0\0not deflate', 'latin1'));
    const noKeyword = chunk('tEXt', Buffer.from('\0text', 'latin1'));
    const longKeyword = textChunk('k'.repeat(80), 'a keyword is at most 79 bytes');
    expect(readPngText(withChunks(base, [bomb, broken, noKeyword, longKeyword, textChunk('ok', 'yes')]))).toEqual({ text: { ok: 'yes' }, problem: null });
  });

  it('returns nothing for non-PNG bytes and stops at a chunk running past the end', () => {
    expect(readPngText(Buffer.from('GIF89a....'))).toEqual({ text: {}, problem: null });
    const png = withChunks(base, [textChunk('a', 'b')]);
    expect(readPngText(png.subarray(0, 40)).text).toEqual({});
  });
});

describe('readPngText: one budget for all the text of an image', () => {
  it('the bomb fixture is what it claims: a valid zlib stream of that many zeros', () => {
    expect(inflateSync(zlibZeros(8)).equals(Buffer.alloc(8 * 1024 * 1024))).toBe(true);
  });

  it('a prompt chunk that inflates past the budget is a problem, with memory bounded by the budget', () => {
    const png = withChunks(base, [textChunk('prompt', '{}'), zlibBombChunk('parameters', 1024)]);
    const before = process.memoryUsage().arrayBuffers;
    const r = readPngText(png);
    expect(r.text).toEqual({ prompt: '{}' });
    expect(r.problem).toMatch(new RegExp(`larger than the ${MAX_METADATA_TEXT_BYTES} bytes read \\(at chunk "parameters"\\)`));
    // A 1 GiB output would show here; the inflate stopped at the budget.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('300 compressed chunks of 16 MiB under other keywords are skipped without inflating', () => {
    const started = performance.now();
    const r = readPngText(withChunks(base, [...manyZtxtChunks(300, 16 * 1024 * 1024), textChunk('parameters', 'a fox')]));
    expect(r).toEqual({ text: { parameters: 'a fox' }, problem: null });
    // Inflating them would take 300 × 16 MiB of work (and memory); skipping takes a few milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('repeats of a prompt keyword after the first are skipped without inflating', () => {
    const r = readPngText(withChunks(base, [zTextChunk('parameters', 'first'), ...repeatedZtxtChunks('parameters', 300, 16 * 1024 * 1024)]));
    expect(r).toEqual({ text: { parameters: 'first' }, problem: null });
  });

  it('text within the budget is kept; a prompt chunk past what is left is a problem, other chunks are skipped', () => {
    const r = readPngText(
      withChunks(base, [textChunk('Comment', 'x'.repeat(60)), textChunk('Title', 'y'.repeat(60)), textChunk('parameters', 'z'.repeat(60))]),
      100,
    );
    expect(r.text).toEqual({ Comment: 'x'.repeat(60) });
    expect(r.problem).toMatch(/larger than the 100 bytes read \(at chunk "parameters"\)/);
  });
});

describe('withoutTextChunks', () => {
  it('drops every text chunk and keeps the rest byte for byte, so the pixels decode the same', async () => {
    const png = withChunks(base, [textChunk('prompt', '{}'), zTextChunk('a', 'b'), iTextChunk('c', 'd', true), chunk('tIME', Buffer.alloc(7))]);
    const stripped = withoutTextChunks(png);
    expect(splitChunks(stripped).map((c) => c.type)).toEqual(splitChunks(base).flatMap((c, i) => (i === 0 ? [c.type, 'tIME'] : [c.type])));
    expect(await sharp(stripped).raw().toBuffer()).toEqual(await sharp(base).raw().toBuffer());
  });

  it('returns the same bytes when there is nothing to drop, and non-PNG bytes untouched', () => {
    expect(withoutTextChunks(base)).toBe(base);
    const gif = Buffer.from('GIF89a');
    expect(withoutTextChunks(gif)).toBe(gif);
  });
});
