#!/usr/bin/python3
"""PyTorch reference for docs/PERFORMANCE.md: the TinyStories mlp model of
configs/tinystories_mlp.json (D 256, 4 layers, Dh 64, vocab 8192, F 1024 gelu, tied
embeddings, RMSNorm, QK-norm, RoPE) trained on random tokens at T 256, B 16 with AdamW,
in bf16 autocast (and fp32 with --precisions fp32 bf16); prints the median tokens/s.

Usage: /usr/bin/python3 scripts/torch_reference.py [--threads 2] [--steps 5] [--rounds 3]
Needs Debian's python3-torch. Attention runs as a loop of 2-D matmuls per (batch, head):
that build's torch.bmm is far slower than the loop. Its fp32 matmuls go to the system
BLAS, on a plain Debian the netlib reference libblas3 (~50 s per step here), while bf16
autocast runs oneDNN: only bf16 is a meaningful reference (docs/PERFORMANCE.md).
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

D, H, DH, L, V, FF, T, B = 256, 4, 64, 4, 8192, 1024, 256, 16


def rmsnorm(x, w):
    return x * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6).to(x.dtype) * w


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Parameter(torch.randn(V, D) / D ** 0.5)
        lin = lambda o, i: torch.nn.Parameter(torch.randn(o, i) / i ** 0.5)
        self.layers = torch.nn.ModuleList()
        for _ in range(L):
            m = torch.nn.Module()
            m.wq, m.wk, m.wv, m.wo = lin(D, D), lin(D, D), lin(D, D), lin(D, D)
            m.w1, m.w2 = lin(FF, D), lin(D, FF)
            m.n1, m.n2 = torch.nn.Parameter(torch.ones(D)), torch.nn.Parameter(torch.ones(D))
            m.qn, m.kn = torch.nn.Parameter(torch.ones(DH)), torch.nn.Parameter(torch.ones(DH))
            self.layers.append(m)
        self.norm = torch.nn.Parameter(torch.ones(D))
        inv = 1.0 / (10000 ** (torch.arange(0, DH // 2).float() * 2 / DH))
        ang = torch.outer(torch.arange(T).float(), inv).repeat(1, 2)
        self.cos, self.sin = ang.cos(), ang.sin()
        self.mask = torch.triu(torch.full((T, T), float("-inf")), 1)

    def rope(self, x):  # [B, T, H, DH]
        a, b = x[..., : DH // 2], x[..., DH // 2:]
        rot = torch.cat([-b, a], -1)
        return x * self.cos[:, None, :] + rot * self.sin[:, None, :]

    def attention(self, m, x):
        q = self.rope(rmsnorm(F.linear(x, m.wq).view(B, T, H, DH), m.qn)) / DH ** 0.5
        k = self.rope(rmsnorm(F.linear(x, m.wk).view(B, T, H, DH), m.kn))
        v = F.linear(x, m.wv).view(B, T, H, DH)
        outs = []
        for b in range(B):
            heads = []
            for h in range(H):
                s = torch.mm(q[b, :, h], k[b, :, h].t()).float() + self.mask
                heads.append(torch.mm(torch.softmax(s, -1).to(v.dtype), v[b, :, h]))
            outs.append(torch.cat(heads, -1))
        return F.linear(torch.stack(outs), m.wo)

    def forward(self, tok):
        h = self.emb[tok]
        for m in self.layers:
            h = h + self.attention(m, rmsnorm(h, m.n1))
            h = h + F.linear(F.gelu(F.linear(rmsnorm(h, m.n2), m.w1), approximate="tanh"), m.w2)
        return F.linear(rmsnorm(h, self.norm), self.emb).float()


def run(precision, steps):
    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    times = []
    for i in range(steps + 1):
        tok = torch.randint(0, V, (B, T + 1))
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(tok[:, :-1])
        loss = F.cross_entropy(logits.view(-1, V), tok[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        opt.zero_grad()
        if i > 0:  # the first step is warm-up
            times.append(time.perf_counter() - t0)
    return B * T / statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--precisions", nargs="+", default=["bf16"], choices=["fp32", "bf16"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    print(f"torch {torch.__version__}, {a.threads} threads, mkldnn bf16 "
          f"{torch.backends.mkldnn.is_available()}")
    res = {p: [] for p in a.precisions}
    for _ in range(a.rounds):  # interleaved so that load falls on both alike
        for p in res:
            res[p].append(run(p, a.steps))
            print(f"  {p}: {res[p][-1]:.0f} tokens/s", flush=True)
    for p, v in res.items():
        print(f"{p}: median {statistics.median(v):.0f} tokens/s over {len(v)} runs")


if __name__ == "__main__":
    main()
