// The ComfyUI node pack (plugin-manifest/comfyui): its Python tests, run with Debian's python against a
// real `agiqa serve` they start themselves (bin/agiqa.js → dist, built by `npm test` first), and the
// front end's badge matching, which is plain JS loaded by ComfyUI from web/js/.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verdictPush } from '../../src/bridges/comfyui/feedback.js';
import { judge } from '../../src/policy/index.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';
import { expectUnittestPasses, ROOT, runPython } from './run-python.js';

const PACK = join(ROOT, 'plugin-manifest/comfyui');

describe('ComfyUI node pack', () => {
  it('passes its Python tests against a real agiqa serve', { timeout: 180_000 }, async () => {
    await expectUnittestPasses(['-s', join(PACK, 'tests'), '-t', PACK]);
  });

  it("accepts the bridge's verdict bodies on its /agiqa/verdict route and forwards them unchanged", async () => {
    // The producer is the bridge's own verdictPush; the consumer the pack's route handler.
    const ids = { promptId: 'p-1', node: '9', filename: 'ComfyUI_00042_.png', subfolder: '', type: 'output', batchIndex: 0, generationId: 17 };
    const judged = fakeResult({ mos: 3.41, correspondence: null });
    const single = verdictPush({ ...ids, rank: null }, judged, judge(judged, { thresholds: { overall: 2.5 } }));
    const low = fakeResult({ mos: 1.2 });
    const ranked = verdictPush({ ...ids, batchIndex: 3, rank: 4 }, low, judge(low, { thresholds: { overall: 2.5, quality: 3 } }));
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(PACK)})`,
      'from agiqa_nodes.routes import handle_verdict_body',
      'out = []',
      'for body in json.load(sys.stdin):',
      '    sent = []',
      '    status, answer = handle_verdict_body(json.dumps(body).encode(), lambda event, data: sent.append([event, data]))',
      '    out.append({"status": status, "answer": answer, "sent": sent})',
      'print(json.dumps(out))',
    ].join('\n');
    const run = await runPython(['-c', script], JSON.stringify([single, ranked]));
    expect(run.code, run.output).toBe(0);
    const answers = JSON.parse(run.output) as { status: number; answer: unknown; sent: [string, unknown][] }[];
    expect(answers.map((entry) => entry.status)).toEqual([200, 200]);
    expect(answers[0]!.sent).toEqual([['agiqa.score', single]]);
    expect(answers[1]!.sent).toEqual([['agiqa.score', ranked]]);
  });

  describe('score badges (web/js/agiqa-badges.js)', async () => {
    // Imported by URL: plain JS served to the browser as is, outside the TypeScript project.
    const badges = (await import(pathToFileURL(join(PACK, 'web/js/agiqa-badges.js')).href)) as {
      nodeKey(graphId: string | undefined, nodeId: number): string;
      badgeBox(nodeWidth: number, textWidth: number, titleHeight: number): { x: number; y: number; width: number; height: number };
      previewBoxes(score: unknown, area: { x: number; y: number; width: number; height: number }): { label: string; score: number; x: number; y: number; width: number; height: number }[];
      previewArea(node: unknown, options?: { sizeText?: boolean }): { x: number; y: number; width: number; height: number };
      PREVIEW_WIDGET: string;
      SIZE_TEXT_HEIGHT: number;
      BadgeStore: new () => {
        clearNodes(): void;
        filesToLookUp(imageLists: unknown[][]): { filename: string; subfolder: string; type: string }[];
        addLookup(files: unknown[], verdicts: unknown[]): number;
        addVerdict(payload: unknown): boolean;
        addNodeOutput(nodeId: number | string, output: unknown): boolean;
        label(nodeId: number | string, images: unknown[], shownIndex?: number | null): { text: string; colour: string } | null;
        shownScore(nodeId: number | string, images: unknown[], shownIndex?: number | null): Record<string, unknown> | null;
      };
    };
    const verdict = (filename: string, mos: number, verdictValue: 'accept' | 'reject', rank: number | null = null) => ({
      prompt_id: 'p1', node: '9', filename, subfolder: '', type: 'output', batch_index: 0, rank,
      generation_id: 1, verdict: verdictValue, reasons: [], mos, level: mos > 3 ? 'good' : 'poor', aspects: { quality: mos },
    });
    const image = (filename: string) => ({ filename, subfolder: '', type: 'output' });

    it('puts a bridge verdict on the node showing that file, and nowhere else', () => {
      const store = new badges.BadgeStore();
      expect(store.addVerdict(verdict('ComfyUI_00042_.png', 3.41, 'accept', 1))).toBe(true);
      expect(store.label(9, [image('ComfyUI_00042_.png')])).toEqual({ text: '3.41 good ✓ #1', colour: '#2e7d32' });
      expect(store.label(9, [image('ComfyUI_00043_.png')])).toBeNull();
      expect(store.label(9, [{ ...image('ComfyUI_00042_.png'), type: 'temp' }])).toBeNull();
      expect(store.addVerdict({ mos: 2 })).toBe(false);
    });

    it('shows the selected image of a batch, or the best and how many pass', () => {
      const store = new badges.BadgeStore();
      store.addVerdict(verdict('a.png', 3.8, 'accept', 1));
      store.addVerdict(verdict('b.png', 1.5, 'reject', 2));
      const images = [image('a.png'), image('b.png')];
      expect(store.label(9, images, 1)?.text).toBe('1.50 poor ✗ #2');
      expect(store.label(9, images, null)?.text).toBe('best 3.80 · 1/2 pass');
    });

    it("shows an AGIQA node's own scores, and a saved file's score by its name", () => {
      const store = new badges.BadgeStore();
      const summary = { index: 0, mos: 2.25, level: 'fair', aspects: {}, verdict: 'reject' };
      expect(store.addNodeOutput(12, { agiqa: [summary], text: ['…'] })).toBe(true);
      expect(store.label(12, [])?.text).toBe('2.25 fair ✗');
      store.addNodeOutput(13, { agiqa: [{ ...summary, mos: 3.9 }], images: [image('ComfyUI_3.90_00001_.png')] });
      expect(store.label(99, [image('ComfyUI_3.90_00001_.png')])?.text).toBe('3.90 fair ✗');
      expect(store.addNodeOutput(14, { images: [] })).toBe(false);
    });

    it('keeps a node\'s own scores to its workflow (and subgraph), and forgets them on a new graph or run', () => {
      const store = new badges.BadgeStore();
      const summary = { index: 0, mos: 4.25, level: 'excellent', aspects: {}, verdict: 'accept' };
      store.addNodeOutput(badges.nodeKey('workflow-a', 8), { agiqa: [summary] });
      expect(store.label(badges.nodeKey('workflow-a', 8), [])?.text).toBe('4.25 excellent ✓');
      // Node 8 of another workflow, or of a subgraph, is another node.
      expect(store.label(badges.nodeKey('workflow-b', 8), [])).toBeNull();
      expect(store.label(badges.nodeKey('subgraph-1', 8), [])).toBeNull();
      store.clearNodes();
      expect(store.label(badges.nodeKey('workflow-a', 8), [])).toBeNull();
    });

    it('draws the badge inside the title bar, right-aligned, at every title height', () => {
      for (const titleHeight of [20, 26, 30, 40]) {
        const box = badges.badgeBox(240, 90, titleHeight);
        expect(box.y).toBeGreaterThanOrEqual(-titleHeight);
        expect(box.y + box.height).toBeLessThanOrEqual(0); // y ≥ 0 is the first slot row
        expect(box.x + box.width).toBe(234);
      }
      expect(badges.badgeBox(60, 200, 30).x).toBe(4); // a narrow node: from the left edge
    });

    it("places the detector's boxes on the node's preview as ComfyUI fits the image, for the image shown", () => {
      const dog = { label: 'dog', score: 0.8, box: { x: 100, y: 50, width: 200, height: 100 } };
      const faint = { label: 'cat', score: 0.2, box: { x: 0, y: 0, width: 10, height: 10 } };
      const score = { mos: 3, image: { width: 400, height: 200 }, detections: [dog, faint] };
      // A 400×200 image in a 200×200 area 30 px down: scaled by 0.5, centred vertically (50 px bands).
      expect(badges.previewBoxes(score, { x: 0, y: 30, width: 200, height: 200 })).toEqual([{ label: 'dog', score: 0.8, x: 50, y: 105, width: 100, height: 50 }]);
      expect(badges.previewBoxes({ ...score, image: null }, { x: 0, y: 0, width: 200, height: 200 })).toEqual([]);
      expect(badges.previewBoxes({ mos: 3 }, { x: 0, y: 0, width: 200, height: 200 })).toEqual([]);
      expect(badges.previewBoxes(score, { x: 0, y: 0, width: 200, height: -5 })).toEqual([]);
      // ComfyUI never enlarges a preview: in a 1000×1000 area the 400×200 image stays at its size, centred.
      expect(badges.previewBoxes(score, { x: 0, y: 0, width: 1000, height: 1000 })).toEqual([{ label: 'dog', score: 0.8, x: 400, y: 450, width: 200, height: 100 }]);

      const store = new badges.BadgeStore();
      const files = [image('a.png'), image('b.png')];
      store.addLookup(files, [{ ...files[0], generation_id: 1, level: 'good', verdict: null, ...score }, null]);
      expect(store.shownScore(9, [image('a.png')])).toMatchObject({ detections: [dog, faint] });
      expect(store.shownScore(9, files, 1)).toBeNull();
      expect(store.shownScore(9, files, null)).toBeNull(); // a grid: no single image to draw on
    });

    it("finds the preview area of the 1.x front end (an image widget) and of the legacy one (below the widgets)", () => {
      // Front end 1.27 (checked in a browser): the image widget's top down to the node's bottom, less
      // the size line. Counting the image widget as one more widget put the boxes under the image.
      const modern = { size: [400, 340], widgets: [{ name: 'filename_prefix', y: 46, last_y: 46 }, { name: 'prompt', y: 70, last_y: 70 }, { name: badges.PREVIEW_WIDGET, y: 120, last_y: 120 }] };
      expect(badges.previewArea(modern)).toEqual({ x: 0, y: 120, width: 400, height: 340 - 120 - badges.SIZE_TEXT_HEIGHT });
      expect(badges.previewArea(modern, { sizeText: false })).toEqual({ x: 0, y: 120, width: 400, height: 220 });
      // Legacy: below the last visible widget (its computed height + 4), or at imageOffset when set.
      const legacy = { size: [300, 400], widgets: [{ name: 'filename_prefix', last_y: 10, computeSize: () => [300, 26] }, { name: 'hidden', hidden: true, last_y: 300 }] };
      expect(badges.previewArea(legacy)).toEqual({ x: 0, y: 40, width: 300, height: 360 });
      expect(badges.previewArea({ ...legacy, imageOffset: 55 })).toEqual({ x: 0, y: 55, width: 300, height: 345 });
    });

    it('asks once for the files shown and badges the ones the server knows', () => {
      const store = new badges.BadgeStore();
      const shown = [[image('a.png'), image('b.png')], [image('a.png')], [], [{ filename: 'c.png' }]];
      const files = store.filesToLookUp(shown);
      expect(files).toEqual([image('a.png'), image('b.png'), image('c.png')]);
      const stored = { generation_id: 3, rank: 2, mos: 2.1, level: 'fair', verdict: 'reject' };
      expect(store.addLookup(files, [null, { ...image('b.png'), ...stored }, null])).toBe(1);
      expect(store.label(badges.nodeKey('w', 9), [image('b.png')])?.text).toBe('2.10 fair ✗ #2');
      expect(store.label(badges.nodeKey('w', 9), [image('a.png')])).toBeNull();
    });
  });
});
