// agiqa in the ComfyUI front end: a score badge on the nodes whose images were scored.
// Scores come from the agiqa bridge (`agiqa serve --comfyui <this ComfyUI>`), which posts each verdict
// to /agiqa/verdict; the node pack forwards it to every browser as an `agiqa.score` event. The AGIQA
// nodes' own results (their `ui.agiqa`) are shown the same way. Plain JS, no build step.
import { app } from "../../../scripts/app.js";
import { api } from "../../../scripts/api.js";
import { BadgeStore } from "./agiqa-badges.js";

const store = new BadgeStore();

function previewImages(node) {
  // The legacy front end keeps the executed images on the node; the newer one in app.nodeOutputs.
  return node.images ?? app.nodeOutputs?.[String(node.id)]?.images ?? [];
}

function redraw() {
  app.graph?.setDirtyCanvas?.(true, false);
}

function drawBadge(node, ctx) {
  if (node.flags?.collapsed) return;
  const label = store.label(node.id, previewImages(node), node.imageIndex);
  if (!label) return;
  ctx.save();
  ctx.font = "bold 12px sans-serif";
  const width = ctx.measureText(label.text).width + 12;
  const x = Math.max(4, node.size[0] - width - 6);
  const y = 4;
  ctx.fillStyle = label.colour;
  ctx.globalAlpha = 0.92;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(x, y, width, 18, 9);
  else ctx.rect(x, y, width, 18);
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.fillStyle = "#fff";
  ctx.textBaseline = "middle";
  ctx.fillText(label.text, x + 6, y + 9.5);
  ctx.restore();
}

app.registerExtension({
  name: "agiqa.scoreBadges",

  setup() {
    api.addEventListener("agiqa.score", ({ detail }) => {
      if (store.addVerdict(detail)) redraw();
    });
  },

  async beforeRegisterNodeDef(nodeType) {
    // Any node whose executed output carries `agiqa` scores (the AGIQA nodes' ui, or another pack's
    // node passing them on); the store ignores every other output, so no list of node names to keep.
    const onExecuted = nodeType.prototype.onExecuted;
    nodeType.prototype.onExecuted = function (output) {
      onExecuted?.apply(this, arguments);
      if (store.addNodeOutput(this.id, output)) redraw();
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
