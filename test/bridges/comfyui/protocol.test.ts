// The frame parsers on the recorded ComfyUI traffic, with no network.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outputImages, parseBinaryFrame, parseTextFrame, type HistoryEntry } from '../../../src/bridges/comfyui/protocol.js';
import { historyEntrySchema } from '../../../src/bridges/comfyui/protocol.js';

const FIXTURES = new URL('../../fixtures/comfyui/', import.meta.url);
function lines(name: string): Record<string, unknown>[] {
  return readFileSync(new URL(name, FIXTURES), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
const textFrames = (name: string) => lines(name).filter((l) => l.event === 'frame' && l.kind === 'text').map((l) => JSON.stringify(l.data));
const history = (name: string) => Object.entries(JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>);

describe('parseTextFrame', () => {
  it('understands every frame the real server sent to a submitter and an observer', () => {
    for (const name of ['frames-submitter.jsonl', 'frames-observer.jsonl', 'frames-cached-submitter.jsonl', 'frames-runtime-error-submitter.jsonl', 'frames-reconnect-submitter.jsonl', 'frames-ws-image-ff-submitter.jsonl', 'frames-no-client-id-observer.jsonl']) {
      const parsed = textFrames(name).map(parseTextFrame);
      expect(parsed.filter((p) => p.kind === 'invalid'), name).toEqual([]);
    }
  });

  it('consumes status, executing, executed, execution_success/error and ignores progress frames', () => {
    const parsed = textFrames('frames-submitter.jsonl').map(parseTextFrame);
    expect(parsed.map((p) => (p.kind === 'consumed' ? p.frame.type : `ignored:${p.kind === 'ignored' ? p.type : '?'}`))).toEqual([
      'status', 'status', 'status', 'execution_start', 'ignored:execution_cached', 'ignored:progress_state', 'executing', 'ignored:progress_state', 'ignored:progress_state',
      'executing', 'executed', 'ignored:progress_state', 'ignored:progress_state', 'executing', 'executed', 'ignored:progress_state', 'execution_success', 'status', 'executing',
    ]);
    const first = parsed[0]!;
    expect(first.kind === 'consumed' && first.frame.type === 'status' && first.frame.data.sid).toBe('945938b7-2a02-44cb-b679-9cb6cd1d3309');
    const last = parsed.at(-1)!;
    expect(last.kind === 'consumed' && last.frame.type === 'executing' && last.frame.data).toEqual({ node: null, prompt_id: '25b40445-2f5b-4bc8-ba23-972cb9b928f5' });
  });

  it('accepts `executing` without prompt_id after a reconnect', () => {
    const parsed = parseTextFrame('{"type":"executing","data":{"node":"3"}}');
    expect(parsed).toEqual({ kind: 'consumed', frame: { type: 'executing', data: { node: '3' } } });
  });

  it('reports broken frames with the reason instead of throwing', () => {
    expect(parseTextFrame('not json')).toMatchObject({ kind: 'invalid', type: null });
    expect(parseTextFrame('{"data":{}}')).toEqual({ kind: 'invalid', type: null, problem: 'no "type" string' });
    expect(parseTextFrame('{"type":"execution_success","data":{}}')).toMatchObject({ kind: 'invalid', type: 'execution_success', problem: expect.stringContaining('prompt_id') });
    expect(parseTextFrame('{"type":"status","data":{"status":{}}}')).toMatchObject({ kind: 'invalid', type: 'status', problem: expect.stringContaining('status.exec_info') });
  });
});

describe('parseBinaryFrame', () => {
  const png = Buffer.from('89504e470d0a1a0a', 'hex');
  it('reads a type-1 preview (the recorded header 00000001 00000002 + PNG)', () => {
    const frame = Buffer.concat([Buffer.from('0000000100000002', 'hex'), png]);
    const parsed = parseBinaryFrame(frame);
    expect(parsed).toMatchObject({ kind: 'preview', format: 'png' });
    expect(parsed.kind === 'preview' && Buffer.from(parsed.image).equals(png)).toBe(true);
  });

  it('reads a type-4 preview with its JSON metadata', () => {
    const metadata = Buffer.from(JSON.stringify({ node_id: '2', prompt_id: 'p', image_type: 'image/png' }));
    const head = Buffer.alloc(8);
    head.writeUInt32BE(4, 0);
    head.writeUInt32BE(metadata.length, 4);
    const parsed = parseBinaryFrame(Buffer.concat([head, metadata, png]));
    expect(parsed).toMatchObject({ kind: 'preview-with-metadata', metadata: { node_id: '2', prompt_id: 'p' } });
    expect(parsed.kind === 'preview-with-metadata' && Buffer.from(parsed.image).equals(png)).toBe(true);
  });

  it('reads a type-3 text frame and refuses short or overrunning frames', () => {
    const frame = Buffer.concat([Buffer.from('0000000300000001', 'hex'), Buffer.from('7hello')]);
    expect(parseBinaryFrame(frame)).toEqual({ kind: 'text', nodeId: '7', text: 'hello' });
    expect(parseBinaryFrame(Buffer.from('0000', 'hex'))).toMatchObject({ kind: 'invalid' });
    expect(parseBinaryFrame(Buffer.from('00000004000000ff7b7d', 'hex'))).toMatchObject({ kind: 'invalid', problem: expect.stringContaining('runs past') });
    expect(parseBinaryFrame(Buffer.from('00000009', 'hex'))).toEqual({ kind: 'unknown', eventType: 9 });
  });
});

describe('history entries', () => {
  it('parse, and list output images by type in node order with their batch index', () => {
    const [[id, raw]] = history('history-main.json') as [[string, unknown]];
    const entry = historyEntrySchema.parse(raw) as HistoryEntry;
    expect(entry.prompt[1]).toBe(id);
    expect(outputImages(entry, new Set(['output']))).toEqual([{ filename: 'bridge_test_00001_.png', subfolder: '', type: 'output', node: '9', batchIndex: 0 }]);
    expect(outputImages(entry, new Set(['output', 'temp'])).map((i) => i.node)).toEqual(['9', '10']);
  });

  it('an errored prompt has no outputs and keeps its status', () => {
    const [[, raw]] = history('history-runtime-error.json') as [[string, unknown]];
    const entry = historyEntrySchema.parse(raw) as HistoryEntry;
    expect(entry.status?.status_str).toBe('error');
    expect(outputImages(entry, new Set(['output']))).toEqual([]);
  });

  it('an interrupted prompt (recorded) parses as an error with its execution_interrupted message', () => {
    const [[, raw]] = history('history-interrupted.json') as [[string, unknown]];
    const entry = historyEntrySchema.parse(raw) as HistoryEntry;
    expect(entry.status?.status_str).toBe('error');
    expect((entry.status?.messages as [string][]).map((m) => m[0])).toContain('execution_interrupted');
    expect(outputImages(entry, new Set(['output']))).toEqual([]);
  });

  it('skips lists that are not images', () => {
    const entry = { prompt: [0, 'p', {}], outputs: { '1': { text: ['hi'] }, '2': { images: [{ filename: 'a.latent', subfolder: '', type: 'output' }, { bogus: true }] } } } as unknown as HistoryEntry;
    expect(outputImages(entry, new Set(['output']))).toEqual([]);
  });
});
