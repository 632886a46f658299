#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""MinkowskiEngine 0.5.4's kernel maps, written from its rules as reference section 4.2 states
them, independently of lidistill's engine: kernel index k decodes x fastest, then y, then z;
odd kernels are centred, offsets (i - ks // 2) * dilation * tensor_stride; the 2x2x2 stride-2
kernel is {0, ts}^3, not centred; a stride-2 output is floor(c / (2 ts)) * 2 ts (floor division,
also for negatives); a transposed convolution is the down-sampling map with in and out swapped.

Reads {"coords": [[b, x, y, z], ...]} (stride-1 ME units) on stdin and prints
{"sub1", "down1", "up1", "sub2", "down2"}: lists of [in b, x, y, z, out b, x, y, z, k] in ME
units (stride 1 -> 2 -> 4 and back)."""
import json
import sys


def decode(k, ks):
    return (k % ks, (k // ks) % ks, k // (ks * ks))


def submanifold(coords, ts, ks=3, dilation=1):
    present = set(coords)
    out = []
    for o in sorted(present):
        for k in range(ks ** 3):
            off = [(i - ks // 2) * dilation * ts for i in decode(k, ks)]
            c = (o[0], o[1] + off[0], o[2] + off[1], o[3] + off[2])
            if c in present:
                out.append(list(c) + list(o) + [k])
    return out


def coarser(coords, ts):
    return sorted({(b, x // (2 * ts) * 2 * ts, y // (2 * ts) * 2 * ts, z // (2 * ts) * 2 * ts)
                   for b, x, y, z in coords})


def downsample(coords, ts):
    present = set(coords)
    out = []
    for o in coarser(coords, ts):
        for k in range(8):
            off = [i * ts for i in decode(k, 2)]
            c = (o[0], o[1] + off[0], o[2] + off[1], o[3] + off[2])
            if c in present:
                out.append(list(c) + list(o) + [k])
    return out


def main():
    coords = [tuple(c) for c in json.load(sys.stdin)["coords"]]
    c2 = coarser(coords, 1)
    down1 = downsample(coords, 1)
    print(json.dumps({
        "sub1": submanifold(coords, 1),
        "down1": down1,
        "up1": [t[4:8] + t[0:4] + [t[8]] for t in down1],  # coarse -> fine, same k
        "sub2": submanifold(c2, 2),
        "down2": downsample(c2, 2),
    }))


if __name__ == "__main__":
    main()
