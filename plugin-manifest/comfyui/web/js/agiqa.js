// agiqa in the ComfyUI front end: a score badge in the title bar of the nodes whose images were scored,
// and the object detector's boxes over the image a node shows when the server stored some.
// Scores come from the agiqa bridge (`agiqa serve --comfyui <this ComfyUI>`), which posts each verdict
// to /agiqa/verdict; the node pack forwards it to every browser as an `agiqa.score` event. The AGIQA
// nodes' own results (their `ui.agiqa`) are shown the same way. Images ComfyUI shows from its cache or
// after a reload are looked up at the server through /agiqa/verdicts. Plain JS, no build step.
import { app } from "../../../scripts/app.js";
import { api } from "../../../scripts/api.js";
import { BadgeStore, PREVIEW_WIDGET, badgeBox, nodeKey, previewArea, previewBoxes } from "./agiqa-badges.js";

const store = new BadgeStore();
const LOOKUP_DELAY_MS = 250;
const SHOW_BOXES = "AGIQA.ShowBoxes";

function previewImages(node) {
  // The legacy front end keeps the executed images on the node; the newer one in app.nodeOutputs.
  return node.images ?? app.nodeOutputs?.[String(node.id)]?.images ?? [];
}

/** The node's key: its own graph (a subgraph has its own id) and its id there. */
function keyOf(node) {
  return nodeKey(node.graph?.id ?? app.graph?.id, node.id);
}

function redraw() {
  app.graph?.setDirtyCanvas?.(true, false);
}

function titleHeight() {
  return globalThis.LiteGraph?.NODE_TITLE_HEIGHT ?? 30;
}

function drawBadge(node, ctx) {
  if (node.flags?.collapsed) return;
  const label = store.label(keyOf(node), previewImages(node), node.imageIndex);
  if (!label) return;
  ctx.save();
  ctx.font = "bold 12px sans-serif";
  const box = badgeBox(node.size[0], ctx.measureText(label.text).width, titleHeight());
  ctx.fillStyle = label.colour;
  ctx.globalAlpha = 0.92;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(box.x, box.y, box.width, box.height, box.height / 2);
  else ctx.rect(box.x, box.y, box.width, box.height);
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.fillStyle = "#fff";
  ctx.textBaseline = "middle";
  ctx.fillText(label.text, box.x + 6, box.y + box.height / 2 + 0.5);
  ctx.restore();
}

function showBoxes() {
  try {
    return app.ui?.settings?.getSettingValue?.(SHOW_BOXES, true) !== false;
  } catch {
    return true;
  }
}

/** The 1.x front end's setting for the size line under an image preview (default on). */
function showsSizeText() {
  try {
    return app.ui?.settings?.getSettingValue?.("Comfy.Node.AllowImageSizeDraw", true) !== false;
  } catch {
    return true;
  }
}

/** The detector's boxes over the one image a node shows, when its score has them (setting AGIQA.ShowBoxes). */
function drawBoxes(node, ctx) {
  if (node.flags?.collapsed || !showBoxes()) return;
  const images = previewImages(node);
  const boxes = previewBoxes(store.shownScore(keyOf(node), images, node.imageIndex), previewArea(node, { sizeText: showsSizeText() }));
  if (boxes.length === 0) return;
  ctx.save();
  ctx.strokeStyle = "#ffb300";
  ctx.fillStyle = "#ffb300";
  ctx.lineWidth = 2;
  ctx.font = "11px sans-serif";
  ctx.textBaseline = "top";
  ctx.textAlign = "left"; // the preview drew its size line centred just before
  for (const box of boxes) {
    ctx.strokeRect(box.x, box.y, box.width, box.height);
    // The label on a dark strip: amber text alone is lost on a bright or busy picture.
    const text = `${box.label} ${box.score.toFixed(2)}`;
    ctx.fillStyle = "rgba(0, 0, 0, 0.6)";
    ctx.fillRect(box.x + 1, box.y + 1, ctx.measureText(text).width + 5, 14);
    ctx.fillStyle = "#ffb300";
    ctx.fillText(text, box.x + 3, box.y + 3);
  }
  ctx.restore();
}

/**
 * The 1.x front end draws a node's image as a widget, after onDrawForeground: boxes drawn there would be
 * painted over. Its preview widget then draws them right after the image (patched once, on this node's
 * widget only). False when the node has no such widget (the legacy front end draws images first).
 */
function boxesFollowPreview(node) {
  const preview = node.widgets?.find((widget) => widget.name === PREVIEW_WIDGET);
  if (preview === undefined || typeof preview.drawWidget !== "function") return false;
  if (!preview.agiqaDrawsBoxes) {
    const drawWidget = preview.drawWidget;
    preview.drawWidget = function (ctx) {
      const result = drawWidget.apply(this, arguments);
      drawBoxes(node, ctx);
      return result;
    };
    preview.agiqaDrawsBoxes = true;
  }
  return true;
}

function allNodes(graph, seen = new Set()) {
  if (!graph || seen.has(graph)) return [];
  seen.add(graph);
  const nodes = [...(graph.nodes ?? graph._nodes ?? [])];
  for (const node of [...nodes]) if (node.subgraph) nodes.push(...allNodes(node.subgraph, seen));
  return nodes;
}

let lookupTimer = null;
/** Asks the server, in one request, for the stored verdicts of every file the graph shows (debounced). */
function lookUpShownFiles() {
  clearTimeout(lookupTimer);
  lookupTimer = setTimeout(async () => {
    const files = store.filesToLookUp(allNodes(app.graph).map(previewImages));
    if (files.length === 0) return;
    try {
      const response = await api.fetchApi("/agiqa/verdicts", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ files }) });
      if (!response.ok) return; // the server is not running: badges arrive live once it is
      const answer = await response.json();
      if (store.addLookup(files, answer.verdicts) > 0) redraw();
    } catch {
      // Best effort, like the live badges: never an error in ComfyUI's console for a missing scorer.
    }
  }, LOOKUP_DELAY_MS);
}

app.registerExtension({
  name: "agiqa.scoreBadges",

  setup() {
    app.ui?.settings?.addSetting?.({ id: SHOW_BOXES, name: "AGIQA: draw the object detector's boxes on scored image previews", type: "boolean", defaultValue: true, onChange: redraw });
    api.addEventListener("agiqa.score", ({ detail }) => {
      if (store.addVerdict(detail)) redraw();
    });
    // A run starts: what nodes scored in the previous run is stale until they run (or are cached) again.
    api.addEventListener("execution_start", () => {
      store.clearNodes();
      redraw();
    });
    api.addEventListener("executed", lookUpShownFiles);
    // Another workflow replaces the graph (tab switch, file open, template): its node ids mean other nodes.
    const loadGraphData = app.loadGraphData;
    app.loadGraphData = async function () {
      store.clearNodes();
      const result = await loadGraphData.apply(this, arguments);
      lookUpShownFiles();
      return result;
    };
  },

  afterConfigureGraph() {
    lookUpShownFiles();
  },

  async beforeRegisterNodeDef(nodeType) {
    // Any node whose executed output carries `agiqa` scores (the AGIQA nodes' ui, or another pack's
    // node passing them on); the store ignores every other output, so no list of node names to keep.
    const onExecuted = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (output) {
      onExecuted?.apply(this, arguments);
      if (store.addNodeOutput(keyOf(this), output)) redraw();
    };
  },

  nodeCreated(node) {
    // Every node may show images the bridge scored (SaveImage, PreviewImage, custom savers).
    const onDrawForeground = node.onDrawForeground;
    node.onDrawForeground = function (ctx) {
      const result = onDrawForeground?.apply(this, arguments);
      if (!boxesFollowPreview(this)) drawBoxes(this, ctx);
      drawBadge(this, ctx);
      return result;
    };
  },
});
