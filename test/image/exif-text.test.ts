import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeUserComment, readExifText } from '../../src/image/index.js';

const prefix = (p: string) => Buffer.from(p.padEnd(8, '\0'), 'latin1');

describe('decodeUserComment', () => {
  it('UNICODE prefix, UTF-16 big- or little-endian', () => {
    const text = 'a fox\nNegative prompt: ñ';
    const be = Buffer.from(text, 'utf16le').swap16();
    const le = Buffer.from(text, 'utf16le');
    expect(decodeUserComment(Buffer.concat([prefix('UNICODE'), be]))).toBe(text);
    expect(decodeUserComment(Buffer.concat([prefix('UNICODE'), le]))).toBe(text);
  });

  it('ASCII and undefined prefixes read as UTF-8; trailing NULs dropped', () => {
    expect(decodeUserComment(Buffer.concat([prefix('ASCII'), Buffer.from('hello\0\0')]))).toBe('hello');
    expect(decodeUserComment(Buffer.concat([Buffer.alloc(8), Buffer.from('plain')]))).toBe('plain');
  });
});

describe('readExifText', () => {
  it('reads parameters from UserComment and prompt/workflow prefixes from IFD0 strings', async () => {
    const jpeg = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#000' } })
      .withExif({ IFD0: { Model: 'prompt:{"1":{}}', Make: 'workflow:{}', ImageDescription: 'desc' }, IFD2: { UserComment: 'p\nSteps: 1' } })
      .jpeg()
      .toBuffer();
    const { exif } = await sharp(jpeg).metadata();
    expect(readExifText(exif!)).toEqual({ parameters: 'p\nSteps: 1', prompt: '{"1":{}}', workflow: '{}', ImageDescription: 'desc' });
  });

  it('returns {} for damaged EXIF instead of throwing', () => {
    expect(readExifText(Buffer.from('Exif\0\0garbage'))).toEqual({});
  });
});
