#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Convert a LiDiff / ScoreLiDAR / Distillation-DPO Lightning checkpoint (.ckpt) into the
safetensors file that `lidistill` loads (tensors "encoder.*", "denoiser.*", "refiner.*" plus a
"lidistill.config" metadata entry).

Key prefixes (reference lidiff-family.md section 9):
  encoder  (MinkGlobalEnc): partial_enc.*, DM_encoder.*
  denoiser (MinkUNetDiff):  generator.* (distilled student, preferred), model.*, DiffModel.*;
                            teacher.* with --teacher
  refiner  (MinkUNet):      model_refine.*
Needs only python3-torch (Debian). Lightning classes pickled in the checkpoint (hyper-parameter
containers) are loaded as plain stand-ins, so pytorch_lightning need not be installed.

Usage: convert_lightning_checkpoint.py IN.ckpt OUT.safetensors [--teacher] [--source TEXT]
"""
import argparse
import json
import os
import re
import struct
import sys
import types

import torch

CHANNELS = [32, 32, 64, 128, 256, 256, 128, 96, 96]
DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
          torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
          torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}


class _Stub(dict):
    """Stand-in for any class the unpickler cannot import (e.g. Lightning's AttributeDict)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def __setstate__(self, state):
        if isinstance(state, dict):
            self.update(state)


def load_state_dict(path):
    # Classes the checkpoint pickled but this interpreter cannot import (Lightning's
    # AttributeDict, project modules) are replaced by stand-ins, one at a time.
    for _ in range(200):
        try:
            ckpt = torch.load(path, map_location="cpu")
            break
        except AttributeError as e:
            m = re.search(r"Can't get attribute '([^']+)' on <module '([^']+)'", str(e))
            if not m or m.group(2) not in sys.modules:
                raise SystemExit(f"{path}: cannot read checkpoint: {e}")
            setattr(sys.modules[m.group(2)], m.group(1), type(m.group(1), (_Stub,), {}))
        except ModuleNotFoundError as e:
            if not e.name or e.name in sys.modules:
                raise SystemExit(f"{path}: cannot read checkpoint: {e}")
            sys.modules[e.name] = types.ModuleType(e.name)
        except Exception as e:  # noqa: BLE001 - report any load failure with the file name
            raise SystemExit(f"{path}: cannot read checkpoint: {e}")
    else:
        raise SystemExit(f"{path}: cannot read checkpoint: too many unknown classes")
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise SystemExit(f"{path}: no state_dict in checkpoint")
    return state


def take(state, prefixes):
    for prefix in prefixes:
        sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if sub:
            return prefix, sub
    return None, {}


def width_of(sub, path, what):
    kernel = sub.get("stem.0.kernel")
    if kernel is None or kernel.dim() != 3:
        raise SystemExit(f"{path}: {what} has no 3-D stem.0.kernel")
    width = kernel.shape[2] / 32.0
    for i, c in enumerate(CHANNELS):
        if int(width * c) <= 0:
            raise SystemExit(f"{path}: {what} width {width} is not a LiDiff channel plan")
    return width, int(kernel.shape[1])


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, t in tensors:
        t = t.detach().cpu().contiguous()
        if t.dtype not in DTYPES:
            raise SystemExit(f"{name}: unsupported dtype {t.dtype}")
        data = t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("output")
    ap.add_argument("--teacher", action="store_true",
                    help="take teacher.* as the denoiser (ScoreLiDAR / DPO student files)")
    ap.add_argument("--source", default=None, help="text stored as the config's source")
    args = ap.parse_args(argv)

    state = load_state_dict(args.checkpoint)
    enc_prefix, enc = take(state, ["partial_enc.", "DM_encoder."])
    den_order = ["teacher."] if args.teacher else ["generator.", "model.", "DiffModel."]
    den_prefix, den = take(state, den_order)
    ref_prefix, ref = take(state, ["model_refine."])
    if not (enc or den or ref):
        raise SystemExit(f"{args.checkpoint}: no LiDiff network found (expected prefixes "
                         "partial_enc., model., generator., DiffModel., DM_encoder., model_refine.)")
    widths = []
    in_channels = 3
    for sub, what in ((enc, "encoder"), (den, "denoiser"), (ref, "refiner")):
        if sub:
            w, in_channels = width_of(sub, args.checkpoint, what)
            widths.append(w)
    if any(abs(w - widths[0]) > 1e-9 for w in widths):
        raise SystemExit(f"{args.checkpoint}: networks have different widths {widths}")
    refiner_out = int(ref["last.2.weight"].shape[0]) if ref else 18
    config = {"format": "lidistill-lidiff", "version": 1, "width": widths[0],
              "in_channels": in_channels, "refiner_out_channels": refiner_out,
              "voxel_size": 0.05, "has_encoder": bool(enc), "has_denoiser": bool(den),
              "has_refiner": bool(ref),
              "source": args.source or f"{os.path.basename(args.checkpoint)} "
                                       f"({enc_prefix or '-'} {den_prefix or '-'} {ref_prefix or '-'})"}
    tensors = []
    for sub, name in ((enc, "encoder"), (den, "denoiser"), (ref, "refiner")):
        tensors += [(f"{name}.{k}", v) for k, v in sub.items()]
    write_safetensors(args.output, tensors, {"lidistill.config": json.dumps(config)})
    print(f"wrote {args.output}: {len(tensors)} tensors, width {widths[0]}, "
          f"encoder={enc_prefix} denoiser={den_prefix} refiner={ref_prefix}")


if __name__ == "__main__":
    main(sys.argv[1:])
