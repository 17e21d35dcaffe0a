// agiqa in the ComfyUI front end: a score badge in the title bar of the nodes whose images were scored.
// Scores come from the agiqa bridge (`agiqa serve --comfyui <this ComfyUI>`), which posts each verdict
// to /agiqa/verdict; the node pack forwards it to every browser as an `agiqa.score` event. The AGIQA
// nodes' own results (their `ui.agiqa`) are shown the same way. Images ComfyUI shows from its cache or
// after a reload are looked up at the server through /agiqa/verdicts. Plain JS, no build step.
import { app } from "../../../scripts/app.js";
import { api } from "../../../scripts/api.js";
import { BadgeStore, badgeBox, nodeKey } from "./agiqa-badges.js";

const store = new BadgeStore();
const LOOKUP_DELAY_MS = 250;

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
      drawBadge(this, ctx);
      return result;
    };
  },
});
