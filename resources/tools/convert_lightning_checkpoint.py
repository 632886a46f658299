#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Convert LiDiff / ScoreLiDAR / Distillation-DPO Lightning checkpoints (.ckpt) into the one
safetensors file that `lidistill` loads (tensors "encoder.*", "denoiser.*", "refiner.*" plus a
"lidistill.config" metadata entry).

Several checkpoints go into one file: the published pipeline is a diffusion checkpoint plus a
separate refine_net.ckpt, so `diff_net.ckpt refine_net.ckpt OUT` gives a model that completes and
refines. Each network comes from the first checkpoint (in the order given) that has it; where a
later one has it too, that copy is ignored and the converter says so.

Key prefixes (reference lidiff-family.md section 9):
  encoder  (MinkGlobalEnc): partial_enc.*, DM_encoder.*
  denoiser (MinkUNetDiff):  generator.* (distilled student, preferred), model.*, DiffModel.*;
                            teacher.* with --teacher
  refiner  (MinkUNet):      model_refine.*

Loading a pickle can run code. Checkpoints are read weights-only, with an explicit allow-list of
what a Lightning checkpoint holds (tensors, storages, ordered dicts, plain containers,
Lightning's AttributeDict read as a dict, NumPy scalars), by a restricted unpickler of our own
over torch.save's zip format: the same on every torch (Debian's 1.13 has no extendable
weights-only mode; >= 2.6 makes weights-only the default and refuses AttributeDict). Anything
else is refused, naming the class; --trust-checkpoint unpickles it anyway (only for files from
a source you trust).
Needs only python3-torch (Debian); pytorch_lightning need not be installed.

Usage: convert_lightning_checkpoint.py IN.ckpt [IN2.ckpt ...] OUT.safetensors [--teacher]
       [--source TEXT] [--trust-checkpoint]
"""
import argparse
import json
import os
import pickle
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
    """Stand-in for a hyper-parameter container (Lightning's AttributeDict) or, with
    --trust-checkpoint, any class this interpreter cannot import."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def __setstate__(self, state):
        if isinstance(state, dict):
            self.update(state)


# What a Lightning checkpoint of these projects holds: (module, name) pairs that unpickle as
# themselves. Tensors, storages and hyper-parameter containers are handled below.
ALLOWED = {
    ("collections", "OrderedDict"), ("collections", "defaultdict"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"), ("builtins", "complex"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "dtype"), ("numpy", "ndarray"), ("torch", "Size"), ("torch", "device"),
}
# Hyper-parameter containers: read as plain dicts, never imported.
HPARAM_CLASSES = {
    ("pytorch_lightning.utilities.parsing", "AttributeDict"),
    ("lightning_fabric.utilities.data", "AttributeDict"),
    ("lightning.fabric.utilities.data", "AttributeDict"),
    ("argparse", "Namespace"),
}
STORAGE_DTYPES = {
    "DoubleStorage": torch.float64, "FloatStorage": torch.float32, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class Refused(Exception):
    pass


class _StorageType:
    def __init__(self, dtype):
        self.dtype = dtype


def _rebuild_tensor(storage, offset, size, stride, *rest):
    # A view of the flat storage tensor; nothing of the pickle runs.
    return storage.as_strided(tuple(size), tuple(stride), offset)


def _rebuild_parameter(data, *rest):
    return data


def _read_restricted(path):
    """torch.save's zip format read with an allow-list: data.pkl through a restricted
    unpickler, each storage from its own record as a flat tensor. The same on every torch
    version (Debian's 1.13 has no extendable weights-only mode and ignores pickle_module)."""
    import io
    import zipfile
    if not zipfile.is_zipfile(path):
        raise Refused("an old-format (pre torch 1.6) pickle, which cannot be read safely")
    with zipfile.ZipFile(path) as z:
        pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
        if len(pkl) != 1:
            raise SystemExit(f"{path}: not a torch checkpoint (no data.pkl record)")
        root = pkl[0][:-len("data.pkl")]
        storages = {}

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if (module, name) in HPARAM_CLASSES:
                    return _Stub
                if module == "torch" and name in STORAGE_DTYPES:
                    return _StorageType(STORAGE_DTYPES[name])
                if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                    return _rebuild_tensor
                if (module, name) in (("torch._utils", "_rebuild_parameter"),
                                      ("torch._utils", "_rebuild_parameter_with_state")):
                    return _rebuild_parameter
                if (module, name) in ALLOWED or module == "numpy.dtypes" or (
                        module == "torch" and isinstance(getattr(torch, name, None), torch.dtype)):
                    return super().find_class(module, name)
                raise Refused(f"{module}.{name}")

            def persistent_load(self, pid):
                if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage" and
                        isinstance(pid[1], _StorageType)):
                    raise Refused(f"a persistent object {pid!r:.60}")
                key = str(pid[2])
                if key not in storages:
                    raw = bytearray(z.read(f"{root}data/{key}"))
                    storages[key] = (torch.frombuffer(raw, dtype=pid[1].dtype) if raw
                                     else torch.empty(0, dtype=pid[1].dtype))
                return storages[key]

        return Unpickler(io.BytesIO(z.read(pkl[0])), encoding="utf-8").load()


def _load_trusted(path):
    # Full unpickling. Classes this interpreter cannot import (Lightning's AttributeDict,
    # project modules) are replaced by stand-ins, one at a time.
    kwargs = {"weights_only": False} if "weights_only" in torch.load.__code__.co_varnames else {}
    for _ in range(200):
        try:
            return torch.load(path, map_location="cpu", **kwargs)
        except AttributeError as e:
            m = re.search(r"Can't get attribute '([^']+)' on <module '([^']+)'", str(e))
            if not m or m.group(2) not in sys.modules:
                raise SystemExit(f"{path}: cannot read checkpoint: {e}")
            setattr(sys.modules[m.group(2)], m.group(1), type(m.group(1), (_Stub,), {}))
        except ModuleNotFoundError as e:
            if not e.name or e.name in sys.modules:
                raise SystemExit(f"{path}: cannot read checkpoint: {e}")
            sys.modules[e.name] = types.ModuleType(e.name)
    raise SystemExit(f"{path}: cannot read checkpoint: too many unknown classes")


def load_state_dict(path, trust=False):
    if not os.path.isfile(path):
        raise SystemExit(f"{path}: no such file")
    try:
        ckpt = _load_trusted(path) if trust else _read_restricted(path)
    except SystemExit:
        raise
    except Refused as e:
        raise SystemExit(
            f"{path}: the checkpoint holds {e}, which is not among the classes a Lightning "
            "checkpoint of LiDiff, ScoreLiDAR or Distillation-DPO holds; unpickling it could run "
            "code. Only if you trust where the file comes from, pass --trust-checkpoint.")
    except Exception as e:  # noqa: BLE001 - report any load failure with the file name
        raise SystemExit(f"{path}: cannot read checkpoint: {e}")
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


NETWORKS = (("encoder", ["partial_enc.", "DM_encoder."]),
            ("denoiser", ["generator.", "model.", "DiffModel."]),
            ("refiner", ["model_refine."]))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", metavar="IN.ckpt... OUT.safetensors")
    ap.add_argument("--teacher", action="store_true",
                    help="take teacher.* as the denoiser (ScoreLiDAR / DPO student files)")
    ap.add_argument("--source", default=None, help="text stored as the config's source")
    ap.add_argument("--trust-checkpoint", action="store_true",
                    help="unpickle classes outside the allow-list (runs the file's code)")
    args = ap.parse_args(argv)
    if len(args.files) < 2:
        ap.error("give one or more checkpoints and the output file")
    inputs, output = args.files[:-1], args.files[-1]
    if not output.endswith(".safetensors"):
        ap.error(f"the last file is the output and must end in .safetensors, got {output}")
    if any(os.path.abspath(output) == os.path.abspath(i) for i in inputs):
        ap.error("the output would overwrite an input")

    nets = {}  # name -> (sub state, prefix, file)
    for path in inputs:
        state = load_state_dict(path, args.trust_checkpoint)
        found = False
        for name, order in NETWORKS:
            if name == "denoiser" and args.teacher:
                order = ["teacher."]
            prefix, sub = take(state, order)
            if not sub:
                continue
            found = True
            if name in nets:
                print(f"note: {name} ({prefix}) in {path} ignored: already taken from "
                      f"{nets[name][2]}", file=sys.stderr)
                continue
            nets[name] = (sub, prefix, path)
        if not found:
            raise SystemExit(f"{path}: no LiDiff network found (expected prefixes partial_enc., "
                             "model., generator., DiffModel., DM_encoder., model_refine.)")
    widths = []
    in_channels = 3
    for name, _ in NETWORKS:
        if name in nets:
            sub, _, path = nets[name]
            w, c = width_of(sub, path, name)
            if name != "refiner":
                in_channels = c
            widths.append((w, name, path))
    if any(abs(w - widths[0][0]) > 1e-9 for w, _, _ in widths):
        raise SystemExit("networks of different widths: " +
                         ", ".join(f"{n} {w} ({p})" for w, n, p in widths))
    ref = nets.get("refiner", ({}, None, None))[0]
    refiner_out = int(ref["last.2.weight"].shape[0]) if ref else 18
    origin = "; ".join(f"{n} {nets[n][1]} from {os.path.basename(nets[n][2])}"
                       for n, _ in NETWORKS if n in nets)
    config = {"format": "lidistill-lidiff", "version": 1, "width": widths[0][0],
              "in_channels": in_channels, "refiner_out_channels": refiner_out,
              "voxel_size": 0.05, "has_encoder": "encoder" in nets,
              "has_denoiser": "denoiser" in nets, "has_refiner": "refiner" in nets,
              "source": args.source or origin}
    # A distilled student (generator.*) samples with 8 steps and w 3.5, the teachers with LiDiff's
    # 50 and w 6 (reference 0.1), and the file says so: `complete` and the studio use it.
    if "denoiser" in nets:
        student = nets["denoiser"][1] == "generator."
        config["role"] = "student" if student else "teacher"
        config["sampling"] = {"steps": 8, "guidance": 3.5} if student else {"steps": 50,
                                                                             "guidance": 6.0}
    tensors = []
    for name, _ in NETWORKS:
        if name in nets:
            tensors += [(f"{name}.{k}", v) for k, v in nets[name][0].items()]
    write_safetensors(output, tensors, {"lidistill.config": json.dumps(config)})
    print(f"wrote {output}: {len(tensors)} tensors, width {widths[0][0]}: {origin}")


if __name__ == "__main__":
    main(sys.argv[1:])
