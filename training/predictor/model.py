"""The predictor network and its ONNX interface.

Inputs (batch first, float32):
  image_tokens [B, N, D]   the backbone's spatial map, mean over crops, pooled to a small grid
  rounds       [B, R, 5+E] one row per aspect round (ASPECTS order): level logits + evidence features
  round_mask   [B, R]      1 when the pack judges that aspect, 0 when its round is absent
Output:
  mos          [B, R+1]    MOS on 0-5 per aspect, then overall

An absent round is replaced by a learned "absent" token and left out of the mean pooling, so it
carries no made-up evidence. The `mlp` kind is the ablation baseline: the same token embeddings,
mean-pooled, with no sequence model.
"""
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from xlstm import XLSTMStack

ASPECTS = ["quality", "correspondence", "authenticity"]
LEVELS = 5


@dataclass
class PredictorConfig:
    token_dim: int
    tokens: int
    evidence: int
    kind: str = "xlstm"
    width: int = 64
    blocks: int = 3
    slstm_at: list = field(default_factory=lambda: [1])
    heads: int = 4
    head_hidden: int = 128
    # dropout on the embedded tokens and before the head: the training sets are small (hundreds to
    # a few thousand images) against 1280-d tokens, and the predictor overfits within a few epochs
    dropout: float = 0.1

    @property
    def round_width(self) -> int:
        return LEVELS + self.evidence

    def to_json(self):
        return asdict(self)


class M3Predictor(nn.Module):
    def __init__(self, config: PredictorConfig):
        super().__init__()
        self.config = config
        rounds, width = len(ASPECTS), config.width
        self.token_norm = nn.LayerNorm(config.token_dim)
        self.token_proj = nn.Linear(config.token_dim, width)
        self.position = nn.Parameter(torch.randn(config.tokens, width) * 0.02)
        # standardisation of round features, fitted on the training split and baked into the graph
        self.register_buffer("round_mean", torch.zeros(rounds, config.round_width))
        self.register_buffer("round_std", torch.ones(rounds, config.round_width))
        self.round_proj = nn.Linear(config.round_width, width)
        self.aspect_embedding = nn.Parameter(torch.randn(rounds, width) * 0.02)
        self.absent = nn.Parameter(torch.randn(rounds, width) * 0.02)
        self.core = XLSTMStack(width, config.blocks, tuple(config.slstm_at), config.heads) if config.kind == "xlstm" else None
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Sequential(nn.Linear(width, config.head_hidden), nn.ReLU(), nn.Dropout(config.dropout), nn.Linear(config.head_hidden, rounds + 1))

    def set_round_statistics(self, rounds: torch.Tensor, mask: torch.Tensor):
        """Mean/std of each round's features over the training images that have that round."""
        with torch.no_grad():
            for r in range(len(ASPECTS)):
                present = rounds[mask[:, r] > 0.5, r]
                if present.shape[0] >= 2:
                    self.round_mean[r] = present.mean(0)
                    self.round_std[r] = present.std(0).clamp_min(1e-3)

    def set_output_bias(self, mean_targets: torch.Tensor):
        with torch.no_grad():
            self.head[-1].bias.copy_(mean_targets)

    def forward(self, image_tokens, rounds, round_mask):
        tokens = self.token_proj(self.token_norm(image_tokens)) + self.position
        r = self.round_proj((rounds - self.round_mean) / self.round_std) + self.aspect_embedding
        mask = round_mask.unsqueeze(-1)
        r = mask * r + (1.0 - mask) * self.absent
        sequence = self.dropout(torch.cat([tokens, r], dim=1))
        hidden = self.core(sequence) if self.core is not None else sequence
        weights = torch.cat([torch.ones_like(image_tokens[:, :, 0]), round_mask], dim=1).unsqueeze(-1)
        pooled = (hidden * weights).sum(1) / weights.sum(1)
        return self.head(pooled)


def export_onnx(model: M3Predictor, path: str, batch: int = 2):
    """Exports with a dynamic batch axis (opset 17); the time loop is unrolled for the fixed sequence."""
    model.eval()
    cfg = model.config
    example = (
        torch.zeros(batch, cfg.tokens, cfg.token_dim),
        torch.zeros(batch, len(ASPECTS), cfg.round_width),
        torch.ones(batch, len(ASPECTS)),
    )
    torch.onnx.export(
        model,
        example,
        path,
        input_names=["image_tokens", "rounds", "round_mask"],
        output_names=["mos"],
        dynamic_axes={"image_tokens": {0: "batch"}, "rounds": {0: "batch"}, "round_mask": {0: "batch"}, "mos": {0: "batch"}},
        opset_version=17,
        do_constant_folding=True,
    )
