#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Python side of the ML tests.

read FILE
    Independent safetensors reader (json + struct + numpy only): prints JSON
    {"metadata": {...}, "tensors": {name: {"shape": [...], "sum": float}}}.
published-ckpt KEYS FLAVOUR DIFF.ckpt REFINE.ckpt SUMS.json
    Checkpoints as published, built from the original key list (see published_ckpt).
gadget-ckpt OUT.ckpt
    A checkpoint holding a class outside the converter's allow-list.
make-ckpt MODEL.safetensors OUT.ckpt REF.safetensors FLAVOUR
    Builds a Lightning-style checkpoint with the real key prefixes of FLAVOUR (lidiff,
    scorelidar, dpo) and the names/shapes of MODEL, filled with fresh random values; writes
    REF with test points and the encoder stem output computed here by dense torch conv3d.
"""
import json
import os
import struct
import sys

import numpy as np

NP_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
             "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=NP_DTYPES[e["dtype"]]).reshape(e["shape"])
        tensors[name] = arr
    return meta, tensors


class FakeAttributeDict(dict):
    """Pickled into hyper_parameters under Lightning's own name
    (pytorch_lightning.utilities.parsing.AttributeDict), which the converter cannot import."""


def _as_lightning(cls):
    import types
    module = "pytorch_lightning.utilities.parsing"
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    cls.__module__ = module
    cls.__qualname__ = cls.__name__ = "AttributeDict"
    setattr(sys.modules[module], "AttributeDict", cls)
    return cls


_as_lightning(FakeAttributeDict)


class Gadget:
    """A class no Lightning checkpoint holds: the converter must refuse to unpickle it."""

    def __init__(self, v=1):
        self.v = v


def stem_reference(torch, points, sd, prefix):
    q = torch.round(points / 0.05)
    uniq, inv = torch.unique(q.long(), dim=0, return_inverse=True)  # lexicographic x, y, z
    n = uniq.shape[0]
    feats = torch.zeros(n, 3, dtype=torch.float64).index_add_(0, inv, points.double())
    feats /= torch.bincount(inv, minlength=n).double().unsqueeze(1)
    lo = uniq.min(0).values
    idx = uniq - lo
    size = (idx.max(0).values + 1).tolist()

    def conv(x, w):
        c_in, c_out = w.shape[1], w.shape[2]
        dense = torch.zeros(1, c_in, *size, dtype=torch.float64)
        dense[0, :, idx[:, 0], idx[:, 1], idx[:, 2]] = x.t()
        wt = w.double().reshape(3, 3, 3, c_in, c_out).permute(4, 3, 2, 1, 0)
        out = torch.nn.functional.conv3d(dense, wt, padding=1)
        return out[0, :, idx[:, 0], idx[:, 1], idx[:, 2]].t()

    def bn(x, p):
        g = lambda k: sd[prefix + p + ".bn." + k].double()
        return (x - g("running_mean")) / torch.sqrt(g("running_var") + 1e-5) * g("weight") + g("bias")

    h = torch.relu(bn(conv(feats, sd[prefix + "stem.0.kernel"]), "stem.1"))
    h = torch.relu(bn(conv(h, sd[prefix + "stem.3.kernel"]), "stem.4"))
    return uniq, h


def make_ckpt(model_path, out_path, ref_path, flavour):
    import torch
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "resources", "tools"))
    from convert_lightning_checkpoint import write_safetensors

    _, tensors = read_safetensors(model_path)
    prefixes = {"lidiff": {"encoder": "partial_enc.", "denoiser": "model.", "refiner": "model_refine."},
                "scorelidar": {"encoder": "partial_enc.", "denoiser": "generator.", "refiner": "model_refine."},
                "dpo": {"encoder": "DM_encoder.", "denoiser": "DiffModel.", "refiner": "model_refine."}}[flavour]
    g = torch.Generator().manual_seed(1234)
    sd = {}
    for name, arr in tensors.items():
        net, rest = name.split(".", 1)
        shape = list(arr.shape)
        if arr.dtype == np.int64:
            t = torch.tensor(17, dtype=torch.int64).reshape(shape)
        elif rest.endswith("running_var"):
            t = 0.5 + torch.rand(shape, generator=g)
        else:
            t = (torch.rand(shape, generator=g) - 0.5) * 0.4
        sd[prefixes[net] + rest] = t
    if flavour == "scorelidar":  # teacher and auxiliary copies must be ignored
        sd.update({"teacher." + k[len("generator."):]: torch.zeros_like(v)
                   for k, v in sd.items() if k.startswith("generator.")})
    hp = FakeAttributeDict(resolution=0.05, num_points=180000)
    torch.save({"state_dict": sd, "hyper_parameters": hp, "epoch": 3, "global_step": 10}, out_path)

    points = (torch.rand(400, 3, generator=g) - 0.5) * 1.2
    enc_prefix = prefixes["encoder"]
    coords, stem = stem_reference(torch, points, sd, enc_prefix)
    check = "up1.1.0.net.0.kernel"
    write_safetensors(ref_path, [("points", points.float()), ("coords", coords.int()),
                                 ("stem", stem), ("check." + check, sd[prefixes["denoiser"] + check])],
                      {"flavour": flavour})


PUBLISHED_PREFIXES = {
    # flavour: (diffusion checkpoint prefixes {ours: published}, extra copies in that file)
    "lidiff": ({"encoder": "partial_enc.", "denoiser": "model."}, []),
    "scorelidar": ({"encoder": "partial_enc.", "denoiser": "generator."}, ["teacher.", "auxDiff."]),
    "dpo": ({"encoder": "partial_enc.", "denoiser": "generator."},
            ["teacher.", "auxDiffBetter.", "auxDiffWorse."]),
    "dpo-teacher": ({"encoder": "DM_encoder.", "denoiser": "DiffModel."}, []),
}


def published_ckpt(keys_path, flavour, diff_path, refine_path, sums_path):
    """Checkpoints as published, built from the key list of the original module definitions
    (not from lidistill's names): a diffusion checkpoint with the flavour's prefixes (the
    student's extra teacher / auxiliary copies zeroed) and a separate refine_net.ckpt
    (model_refine.*). Writes the sum of every tensor under lidistill's name to SUMS (JSON)."""
    import torch
    ours = {"partial_enc.": "encoder.", "model.": "denoiser.", "model_refine.": "refiner."}
    prefixes, extras = PUBLISHED_PREFIXES[flavour]
    g = torch.Generator().manual_seed(99)
    diff, refine, sums = {}, {}, {}
    for line in open(keys_path):
        if not line.strip() or line.startswith("#"):
            continue
        name, shape = line.split(" ", 1)
        shape = json.loads(shape)
        base = next(p for p in ours if name.startswith(p))
        rest = name[len(base):]
        if rest.endswith("num_batches_tracked"):
            t = torch.tensor(1000, dtype=torch.int64).reshape(shape)
        elif rest.endswith("running_var"):
            t = 0.5 + torch.rand(shape, generator=g)
        else:
            t = (torch.rand(shape, generator=g) - 0.5) * 0.1
        sums[ours[base] + rest] = float(t.double().sum())
        if base == "model_refine.":
            refine[name] = t
        else:
            diff[prefixes["encoder" if base == "partial_enc." else "denoiser"] + rest] = t
    # The students' teacher and auxiliary copies: a few tensors each are enough to be ignored.
    student = [k for k in diff if k.startswith(prefixes["denoiser"])][:4]
    for extra in extras:
        diff.update({extra + k[len(prefixes["denoiser"]):]: torch.zeros_like(diff[k])
                     for k in student})
    hp = FakeAttributeDict(resolution=0.05, num_points=180000)
    common = {"hyper_parameters": hp, "epoch": 3, "global_step": 10,
              "pytorch-lightning_version": "1.5.10",
              "callbacks": {"ModelCheckpoint": {"best_model_score": torch.tensor(0.5),
                                                "dirpath": "/x"}},
              "optimizer_states": [{"state": {}, "param_groups": [{"lr": 1e-4, "params": [0]}]}],
              "lr_schedulers": [{"gamma": 0.9, "_step_count": 3}]}
    torch.save(dict(common, state_dict=diff), diff_path)
    torch.save(dict(common, state_dict=refine), refine_path)
    with open(sums_path, "w") as f:
        json.dump(sums, f)


def gadget_ckpt(out_path):
    """A small checkpoint that also pickles a class outside the allow-list."""
    import torch
    torch.save({"state_dict": {"model_refine.x": torch.zeros(2)}, "gadget": Gadget(3)}, out_path)


def main():
    if sys.argv[1] == "read":
        meta, tensors = read_safetensors(sys.argv[2])
        print(json.dumps({"metadata": meta,
                          "tensors": {k: {"shape": list(v.shape), "sum": float(np.asarray(v, np.float64).sum())}
                                      for k, v in tensors.items()}}))
    elif sys.argv[1] == "make-ckpt":
        make_ckpt(*sys.argv[2:6])
    elif sys.argv[1] == "published-ckpt":
        published_ckpt(*sys.argv[2:7])
    elif sys.argv[1] == "gadget-ckpt":
        gadget_ckpt(sys.argv[2])
    else:
        raise SystemExit("unknown command")


if __name__ == "__main__":
    main()
