#!/usr/bin/env python3
# Cost model: 16 machines, data-parallel, global batch of configs/tinystories_*.json
# (256 x 1024 tokens per step). Compute per machine at the whole-model rate measured on
# this 2-core VM (docs/PERFORMANCE.md: mlp 170.9, sgatlin 129.7 GFLOP/s), or 16x that
# (a 32-core machine). Wire: gradient bytes x 2(R-1)/R at the link's nominal rate.
# Exposed share f: median exposed / blocking communication measured by `bench` under mpirun
# (docs/PERFORMANCE.md, data-parallel). Prints the two tables of that section.
R = 16
tokens_step = 256 * 1024
logits = 6 * 768 * 8192
cases = [
  ("TinyStories mlp, 5.2M params",      20982784,     34.6e6,                170.9, 0.69),
  ("TinyStories sgatlin, 20.3M params", 81275904,     25.2e6,                129.7, 0.37),
  ("ladder scale 6 mlp, 72.4M params",  72.37e6 * 4,  509.61e6 + logits,     170.9, 0.37),
  ("ladder scale 6 sgatlin, 2.32G params", 2.32e9 * 4, 330.30e6 + logits,    129.7, 0.37),
]
for speed, label in ((1, "2-core machines like this VM"), (16, "32-core machines (16x the rate)")):
    print(f"\n{label}\n")
    print("| model | grad MB/step | sent per rank MB | compute s/step | 10 GbE comm s | eff. no overlap | eff. measured overlap | 25 GbE comm s | eff. no overlap | eff. measured overlap |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, gb, fpt, gfs, f in cases:
        compute = tokens_step / R * fpt / (gfs * 1e9 * speed)
        wire = gb * 2 * (R - 1) / R
        row = [name, f"{gb/1e6:.1f}", f"{wire/1e6:.0f}", f"{compute:.3g}"]
        for gbit in (10, 25):
            comm = wire / (gbit * 1e9 / 8)
            row += [f"{comm:.3g}", f"{100*compute/(compute+comm):.1f}%", f"{100*compute/(compute+f*comm):.1f}%"]
        print("| " + " | ".join(row) + " |")
