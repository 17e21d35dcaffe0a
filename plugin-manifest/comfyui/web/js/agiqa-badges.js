// Which score belongs to which image, without touching ComfyUI: kept apart from agiqa.js so it can be
// tested in Node. Scores arrive from two places: the bridge's `agiqa.score` events (one verdict per
// saved image, named by filename/subfolder/type, ComfyUI's own name for a file) and the AGIQA nodes'
// own `ui.agiqa` lists (one summary per image of the batch they ran on).

const MAX_REMEMBERED = 2000;
/** Files asked about in one lookup at most (the server's limit is 500). */
export const MAX_LOOKUP_FILES = 500;
const BADGE_HEIGHT = 18;

/**
 * A node's identity across workflows: its graph (the workflow's or subgraph's id) and its id in that
 * graph. Node ids restart at 1 in every workflow, so an id alone names a different node in each.
 */
export function nodeKey(graphId, nodeId) {
  return `${graphId ?? "root"}:${nodeId}`;
}

/**
 * Where the badge goes, in the node's coordinates: right-aligned in the title bar (y < 0 in LiteGraph),
 * vertically centred on it, so no slot row or widget below the title is covered.
 */
export function badgeBox(nodeWidth, textWidth, titleHeight) {
  const width = textWidth + 12;
  const height = Math.min(BADGE_HEIGHT, Math.max(10, titleHeight - 4));
  return { x: Math.max(4, nodeWidth - width - 6), y: -titleHeight + (titleHeight - height) / 2, width, height };
}

/** ComfyUI's name for a file: unique per instance because SaveImage/PreviewImage count up. */
export function fileKey(image) {
  return `${image.type ?? "output"}/${image.subfolder ?? ""}/${image.filename}`;
}

export function badgeText(score) {
  const mark = score.verdict === "accept" ? " ✓" : score.verdict === "reject" ? " ✗" : "";
  const rank = typeof score.rank === "number" ? ` #${score.rank}` : "";
  return `${Number(score.mos).toFixed(2)} ${score.level ?? ""}${mark}${rank}`.replace(/\s+/g, " ").trim();
}

export function badgeColour(score) {
  if (score.verdict === "accept") return "#2e7d32";
  if (score.verdict === "reject") return "#c62828";
  return "#37474f";
}

/** Boxes below this confidence are not drawn: the object checks count from 0.25. */
const DRAWN_SCORE = 0.25;

/** The front end's (1.x) image preview: a widget of the node, drawn from its `y` down to the node's bottom. */
export const PREVIEW_WIDGET = "$$canvas-image-preview";
/** What the 1.x preview leaves below the image for its "width × height" line (setting Comfy.Node.AllowImageSizeDraw). */
export const SIZE_TEXT_HEIGHT = 15;

/**
 * Where ComfyUI draws a node's image, in the node's coordinates. The 1.x front end draws it as a widget
 * (from the widget's top to the node's bottom, less the size line when shown); the legacy one below the
 * last widget, or at `imageOffset`. Both fit the image in that area, centred, never enlarged.
 */
export function previewArea(node, { sizeText = true } = {}) {
  const width = node.size[0];
  const preview = (node.widgets ?? []).find((widget) => widget.name === PREVIEW_WIDGET);
  if (preview !== undefined) {
    const top = typeof preview.y === "number" ? preview.y : (preview.last_y ?? 0);
    return { x: 0, y: top, width, height: node.size[1] - top - (sizeText ? SIZE_TEXT_HEIGHT : 0) };
  }
  let top = typeof node.imageOffset === "number" ? node.imageOffset : 0;
  if (typeof node.imageOffset !== "number") {
    for (const widget of node.widgets ?? []) {
      if (widget.hidden || typeof widget.last_y !== "number") continue;
      top = Math.max(top, widget.last_y + (widget.computeSize?.(width)?.[1] ?? 20) + 4);
    }
  }
  return { x: 0, y: top, width, height: node.size[1] - top };
}

/**
 * The object detector's boxes of `score` (from the server's lookup: `detections` in the pixels of
 * `image`) placed on the node's image preview `area`, where ComfyUI draws the image fitted, centred and
 * never enlarged (a small image stays at its size). Empty when the score carries no boxes or no image size.
 */
export function previewBoxes(score, area) {
  const detections = score?.detections;
  const width = score?.image?.width;
  const height = score?.image?.height;
  if (!Array.isArray(detections) || !(width > 0) || !(height > 0) || !(area?.width > 0) || !(area?.height > 0)) return [];
  const scale = Math.min(area.width / width, area.height / height, 1);
  const left = area.x + (area.width - width * scale) / 2;
  const top = area.y + (area.height - height * scale) / 2;
  return detections
    .filter((d) => d?.box && d.score >= DRAWN_SCORE)
    .map((d) => ({ label: d.label, score: d.score, x: left + d.box.x * scale, y: top + d.box.y * scale, width: d.box.width * scale, height: d.box.height * scale }));
}

export class BadgeStore {
  constructor() {
    /** fileKey → score (bridge verdicts and saved images). */
    this.byFile = new Map();
    /** nodeKey(graph, node) → scores of the last batch the node itself scored (AGIQA nodes' ui). */
    this.byNode = new Map();
  }

  /** Forgets what nodes scored themselves: another workflow was loaded, or a run starts. */
  clearNodes() {
    this.byNode.clear();
  }

  /** The distinct files shown by these preview lists, as the lookup route takes them (at most MAX_LOOKUP_FILES). */
  filesToLookUp(imageLists) {
    const files = new Map();
    for (const images of imageLists) {
      for (const image of images ?? []) {
        if (!image?.filename || files.size >= MAX_LOOKUP_FILES) continue;
        files.set(fileKey(image), { filename: image.filename, subfolder: image.subfolder ?? "", type: image.type ?? "output" });
      }
    }
    return [...files.values()];
  }

  /** The lookup's answer: `verdicts[i]` is the stored verdict of `files[i]`, or null. Returns how many were new. */
  addLookup(files, verdicts) {
    let added = 0;
    (verdicts ?? []).forEach((verdict, index) => {
      if (verdict && files[index] && this.addVerdict({ ...files[index], ...verdict })) added += 1;
    });
    return added;
  }

  /** A bridge verdict (the `agiqa.score` event). Returns false for a payload that names no file. */
  addVerdict(payload) {
    if (!payload || typeof payload.filename !== "string" || typeof payload.mos !== "number") return false;
    this.#remember(fileKey(payload), payload);
    return true;
  }

  /** An AGIQA node's executed output (`key` from nodeKey): `agiqa` summaries, and for Save its `images` in the same order. */
  addNodeOutput(key, output) {
    const scores = Array.isArray(output?.agiqa) ? output.agiqa : [];
    if (scores.length === 0) return false;
    this.byNode.set(String(key), scores);
    const images = Array.isArray(output.images) ? output.images : [];
    images.forEach((image, position) => {
      if (image?.filename && scores[position]) this.#remember(fileKey(image), scores[position]);
    });
    return true;
  }

  /**
   * The scores to draw on a node: one per displayed image that has a score (by file), else the
   * scores the node computed itself. `images` is the node's current preview list; `key` from nodeKey.
   */
  scoresFor(key, images) {
    const byImage = (images ?? []).map((image) => (image?.filename ? this.byFile.get(fileKey(image)) : undefined));
    if (byImage.some(Boolean)) return byImage;
    return this.byNode.get(String(key)) ?? [];
  }

  /** The score of the one image the node shows (the selected one of a batch), or null. */
  shownScore(key, images, shownIndex) {
    const scores = this.scoresFor(key, images);
    if (typeof shownIndex === "number") return scores[shownIndex] ?? null;
    return scores.length === 1 ? scores[0] ?? null : null;
  }

  /** The one badge line for a node: the shown image's score, or for a grid the best and a count. */
  label(key, images, shownIndex) {
    const scores = this.scoresFor(key, images);
    const known = scores.filter(Boolean);
    if (known.length === 0) return null;
    if (typeof shownIndex === "number" && scores[shownIndex]) return { text: badgeText(scores[shownIndex]), colour: badgeColour(scores[shownIndex]) };
    if (known.length === 1) return { text: badgeText(known[0]), colour: badgeColour(known[0]) };
    const best = known.reduce((a, b) => (b.mos > a.mos ? b : a));
    const accepted = known.filter((score) => score.verdict === "accept").length;
    const verdicts = known.some((score) => score.verdict) ? ` · ${accepted}/${known.length} pass` : ` · ${known.length} scored`;
    return { text: `best ${Number(best.mos).toFixed(2)}${verdicts}`, colour: badgeColour(best) };
  }

  #remember(key, score) {
    this.byFile.delete(key);
    this.byFile.set(key, score);
    if (this.byFile.size > MAX_REMEMBERED) this.byFile.delete(this.byFile.keys().next().value);
  }
}
