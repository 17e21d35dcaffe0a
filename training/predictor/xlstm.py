"""Vanilla xLSTM blocks (Beck et al., 2024) written step by step so they export to plain ONNX.

Both cells keep the exponential input gate stable with a running log-max m_t (docs: the method note
/work/shared/method/m3-agiqa.md, "The xLSTM cells"):
    m_t = max(log f_t + m_{t-1}, log i_t);  i'_t = exp(log i_t - m_t);  f'_t = exp(log f_t + m_{t-1} - m_t)
The sequences here are short (image tokens + one token per round), so a Python loop over time is
unrolled into the exported graph; no custom kernels, no parallel scan.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F


class CausalConv1d(nn.Module):
    """Depthwise causal convolution over time: output t sees inputs t-k+1..t only."""

    def __init__(self, channels: int, kernel: int = 4):
        super().__init__()
        self.kernel = kernel
        self.conv = nn.Conv1d(channels, channels, kernel, groups=channels, padding=kernel - 1)

    def forward(self, x):  # x [B, T, C]
        t = x.shape[1]
        y = self.conv(x.transpose(1, 2))[:, :, :t]
        return y.transpose(1, 2)


class HeadNorm(nn.Module):
    """Group norm with one group per head (LayerNorm over each head's features), as in xLSTM.
    Per-head means are products with a block-averaging matrix, which exports without reshapes."""

    def __init__(self, heads: int, head_dim: int):
        super().__init__()
        width = heads * head_dim
        head_of = torch.arange(width) // head_dim
        self.register_buffer("average", (head_of.unsqueeze(1) == head_of.unsqueeze(0)).float() / head_dim)
        self.weight = nn.Parameter(torch.ones(width))
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x):  # x [..., H*dh]
        centred = x - x @ self.average
        var = (centred * centred) @ self.average
        return centred / torch.sqrt(var + 1e-5) * self.weight + self.bias


class MLSTMBlock(nn.Module):
    """LayerNorm -> up-projection x2 -> causal conv + SiLU feeding q,k (v from the pre-conv path) ->
    mLSTM cell (matrix memory per head) -> head norm + learnable skip -> gated by SiLU(z) -> down, residual.

    The mLSTM has no hidden-to-hidden recurrence, so `forward` uses its parallel form (a handful of
    matrix products, ~30 graph nodes); `forward_recurrent` is the step-by-step form of the method note,
    kept as the reference the parallel form is checked against (check_equivalence below)."""

    def __init__(self, width: int, heads: int = 4, expand: int = 2, kernel: int = 4):
        super().__init__()
        inner = width * expand
        assert inner % heads == 0
        self.heads = heads
        self.head_dim = inner // heads
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, 2 * inner)
        self.conv = CausalConv1d(inner, kernel)
        self.qk = nn.Linear(inner, 2 * inner, bias=False)
        self.v = nn.Linear(inner, inner, bias=False)
        self.o = nn.Linear(inner, inner)
        self.gates = nn.Linear(inner, 2 * heads)  # log i~ and f~ per head
        self.head_norm = HeadNorm(heads, self.head_dim)
        self.skip = nn.Parameter(torch.ones(inner))
        self.down = nn.Linear(inner, width)
        with torch.no_grad():
            # forget gates start open (sigmoid(3) ~ 0.95), input gates small: memory builds up gradually
            self.gates.bias[heads:].fill_(3.0)
            self.gates.bias[:heads].fill_(-1.0)

    def _projections(self, x):
        h_, dh = self.heads, self.head_dim
        xm, z = self.up(self.norm(x)).chunk(2, dim=-1)
        xc = F.silu(self.conv(xm))
        q, k = self.qk(xc).chunk(2, dim=-1)
        # [B, T, inner] -> [B, H, T, dh]
        q = q.reshape(x.shape[0], -1, h_, dh).transpose(1, 2)
        k = (k / math.sqrt(dh)).reshape(x.shape[0], -1, h_, dh).transpose(1, 2)
        v = self.v(xm).reshape(x.shape[0], -1, h_, dh).transpose(1, 2)
        o = torch.sigmoid(self.o(xm))
        log_i, f_pre = self.gates(xc).chunk(2, dim=-1)  # [B, T, H]
        return xc, z, q, k, v, o, log_i.transpose(1, 2), F.logsigmoid(f_pre).transpose(1, 2)

    def _finish(self, x, h, xc, z, o):
        h = self.head_norm(h * o) + self.skip * xc
        return x + self.down(h * F.silu(z))

    def forward(self, x):  # x [B, T, W]
        xc, z, q, k, v, o, log_i, log_f = self._projections(x)
        t = x.shape[1]
        # log D[t, s] = sum_{r=s+1..t} log f_r + log i_s for s <= t: the decay from step s to step t
        cum = torch.cumsum(log_f, dim=-1)  # [B, H, T]
        log_d = cum.unsqueeze(-1) - cum.unsqueeze(-2) + log_i.unsqueeze(-2)
        causal = torch.tril(torch.ones(t, t, dtype=torch.bool))
        log_d = log_d.masked_fill(~causal, float("-inf"))
        m = log_d.amax(dim=-1, keepdim=True)  # the stabiliser m_t of the recurrent form
        scores = (q @ k.transpose(-1, -2)) * torch.exp(log_d - m)
        den = torch.maximum(scores.sum(-1, keepdim=True).abs(), torch.exp(-m))
        h = (scores @ v) / den  # [B, H, T, dh]
        h = h.transpose(1, 2).reshape(x.shape[0], t, -1)
        return self._finish(x, h, xc, z, o)

    def forward_recurrent(self, x):
        """C_t = f' C + i' v k^T;  n_t = f' n + i' k;  h_t = C_t q_t / max(|n_t^T q_t|, exp(-m_t))."""
        xc, z, q, k, v, o, log_i, log_f = self._projections(x)
        b, h_, t, dh = q.shape
        c = x.new_zeros(b, h_, dh, dh)
        n = x.new_zeros(b, h_, dh)
        m = x.new_full((b, h_), float("-inf"))
        outs = []
        for step in range(t):
            li, lf = log_i[:, :, step], log_f[:, :, step]
            m_new = torch.maximum(lf + m, li)
            i_s = torch.exp(li - m_new).unsqueeze(-1)
            f_s = torch.exp(lf + m - m_new).unsqueeze(-1)
            kt, vt, qt = k[:, :, step], v[:, :, step], q[:, :, step]
            c = f_s.unsqueeze(-1) * c + i_s.unsqueeze(-1) * (vt.unsqueeze(-1) * kt.unsqueeze(-2))
            n = f_s * n + i_s * kt
            num = (c @ qt.unsqueeze(-1)).squeeze(-1)
            den = torch.maximum((n * qt).sum(-1).abs(), torch.exp(-m_new)).unsqueeze(-1)
            outs.append((num / den).reshape(b, h_ * dh))
            m = m_new
        return self._finish(x, torch.stack(outs, dim=1), xc, z, o)


class SLSTMBlock(nn.Module):
    """LayerNorm -> causal conv + SiLU for the i,f gates -> sLSTM cell (block-diagonal recurrence per
    head) -> head norm -> gated MLP (x4/3, GELU) -> down-projection, residual.

    The recurrence is unrolled step by step (h_{t-1} feeds every gate); per step one MatMul with the
    block-diagonal R and the gate arithmetic, so the exported graph stays a few hundred nodes."""

    def __init__(self, width: int, heads: int = 4, kernel: int = 4):
        super().__init__()
        assert width % heads == 0
        self.width = width
        self.heads = heads
        self.head_dim = width // heads
        self.norm = nn.LayerNorm(width)
        self.conv = CausalConv1d(width, kernel)
        self.w_if = nn.Linear(width, 2 * width)
        self.w_zo = nn.Linear(width, 2 * width)
        # R_z, R_i, R_f, R_o as one [W, 4W] matrix; the mask keeps it block-diagonal per head
        self.recurrent = nn.Parameter(torch.randn(width, 4 * width) / math.sqrt(self.head_dim) * 0.5)
        head_of = torch.arange(width) // self.head_dim
        block = (head_of.unsqueeze(1) == head_of.unsqueeze(0)).float()
        self.register_buffer("block_mask", block.repeat(1, 4))
        self.head_norm = HeadNorm(heads, self.head_dim)
        hidden = int(round(width * 4 / 3))
        self.ffn_up = nn.Linear(width, 2 * hidden)
        self.ffn_down = nn.Linear(hidden, width)
        with torch.no_grad():
            self.w_if.bias[width:].fill_(3.0)
            self.w_if.bias[:width].fill_(-1.0)

    def forward(self, x):  # x [B, T, W]
        xn = self.norm(x)
        xc = F.silu(self.conv(xn))
        pre_i, pre_f = self.w_if(xc).chunk(2, dim=-1)
        pre_z, pre_o = self.w_zo(xn).chunk(2, dim=-1)
        pre = torch.cat([pre_z, pre_i, pre_f, pre_o], dim=-1)  # [B, T, 4W]
        r_weight = self.recurrent * self.block_mask
        h = torch.zeros_like(xn[:, 0])
        c = torch.zeros_like(h)
        n = torch.zeros_like(h)
        m = torch.full_like(h, float("-inf"))
        outs = []
        for pre_t in pre.unbind(1):
            g_z, g_i, g_f, g_o = (pre_t + h @ r_weight).chunk(4, dim=-1)
            z = torch.tanh(g_z)
            log_i = g_i
            log_f = F.logsigmoid(g_f)
            o = torch.sigmoid(g_o)
            m_new = torch.maximum(log_f + m, log_i)
            i_s = torch.exp(log_i - m_new)
            f_s = torch.exp(log_f + m - m_new)
            c = f_s * c + i_s * z
            n = f_s * n + i_s
            h = o * c / n
            m = m_new
            outs.append(h)
        y = self.head_norm(torch.stack(outs, dim=1))
        a, g = self.ffn_up(y).chunk(2, dim=-1)
        return x + self.ffn_down(F.gelu(a) * g)


class XLSTMStack(nn.Module):
    """Blocks in order; `slstm_at` lists the sLSTM positions (the paper: [1] of 4)."""

    def __init__(self, width: int, blocks: int = 3, slstm_at=(1,), heads: int = 4):
        super().__init__()
        self.blocks = nn.ModuleList(
            [SLSTMBlock(width, heads) if i in slstm_at else MLSTMBlock(width, heads) for i in range(blocks)]
        )
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


def check_equivalence(seed: int = 0, tolerance: float = 1e-5) -> float:
    """Largest difference between the parallel and the recurrent mLSTM on random input (must be ~1e-6)."""
    torch.manual_seed(seed)
    block = MLSTMBlock(16, heads=4)
    x = torch.randn(3, 12, 16)
    with torch.no_grad():
        diff = (block(x) - block.forward_recurrent(x)).abs().max().item()
    assert diff <= tolerance, f"parallel and recurrent mLSTM differ by {diff}"
    return diff
