import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readPngText } from '../../src/image/index.js';
import { chunk, iTextChunk, textChunk, withChunks, zTextChunk } from '../fixtures/image/png-chunks.js';

const base = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } }).png().toBuffer();

describe('readPngText', () => {
  it('reads tEXt, zTXt and iTXt (plain and compressed)', () => {
    const png = withChunks(base, [
      textChunk('prompt', '{"a":1}'),
      zTextChunk('workflow', '{"nodes":[]}'),
      iTextChunk('parameters', 'Grüße 🌊'),
      iTextChunk('Comment', 'zipped ünïcode', true),
    ]);
    expect(readPngText(png)).toEqual({
      prompt: '{"a":1}',
      workflow: '{"nodes":[]}',
      parameters: 'Grüße 🌊',
      Comment: 'zipped ünïcode',
    });
  });

  it('reads Latin-1 tEXt as Latin-1 and UTF-8 written into tEXt as UTF-8', () => {
    const latin = chunk('tEXt', Buffer.concat([Buffer.from('Title\0', 'latin1'), Buffer.from('café', 'latin1')]));
    const utf8 = chunk('tEXt', Buffer.concat([Buffer.from('Author\0', 'latin1'), Buffer.from('彩虹', 'utf8')]));
    expect(readPngText(withChunks(base, [latin, utf8]))).toEqual({ Title: 'café', Author: '彩虹' });
  });

  it('keeps the first chunk of a repeated keyword', () => {
    expect(readPngText(withChunks(base, [textChunk('k', 'first'), textChunk('k', 'second')]))).toEqual({ k: 'first' });
  });

  it('skips a zTXt zip bomb (inflates past 16 MiB) and damaged chunks without throwing', () => {
    const bomb = chunk('zTXt', Buffer.concat([Buffer.from('bomb\0\0', 'latin1'), deflateSync(Buffer.alloc(17 * 1024 * 1024), { level: 1 })]));
    const broken = chunk('zTXt', Buffer.from('broken\0\0not deflate', 'latin1'));
    const noKeyword = chunk('tEXt', Buffer.from('\0text', 'latin1'));
    expect(readPngText(withChunks(base, [bomb, broken, noKeyword, textChunk('ok', 'yes')]))).toEqual({ ok: 'yes' });
  });

  it('returns {} for non-PNG bytes and stops at a chunk running past the end', () => {
    expect(readPngText(Buffer.from('GIF89a....'))).toEqual({});
    const png = withChunks(base, [textChunk('a', 'b')]);
    expect(readPngText(png.subarray(0, 40))).toEqual({});
  });
});
