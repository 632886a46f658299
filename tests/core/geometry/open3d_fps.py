#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Independent reference for tests/core/geometry: Open3D's own farthest_point_down_sample.

Usage:
  open3d_fps.py sample IN.bin COUNT OUT.f64   the points farthest_point_down_sample(COUNT)
                                              returns, in its order, as float64 x,y,z rows
  open3d_fps.py order IN.bin COUNT OUT.i64    the input index of every pick, in pick order, for
                                              picks 1..COUNT (IN must hold distinct points)
  open3d_fps.py groups IN.bin COUNT OUT.f64 SIZE   'sample' on each run of SIZE points of IN,
                                                   the results concatenated
IN.bin holds float32 x,y,z,w records (KITTI .bin). Exits with status 3 and a message on stderr
if numpy or open3d is missing, so that the C++ test can skip.
"""
import sys

try:
    import numpy as np
    import open3d as o3d
except ImportError as e:
    sys.stderr.write(f"open3d_fps.py: missing Python module: {e}\n")
    sys.exit(3)


def load(path):
    return np.fromfile(path, dtype=np.float32).reshape(-1, 4)[:, :3].astype(np.float64)


def main():
    mode, src, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    pts = load(src)
    cloud = o3d.geometry.PointCloud()
    cloud.points = o3d.utility.Vector3dVector(pts)
    if mode == "sample":
        np.asarray(cloud.farthest_point_down_sample(count).points, dtype=np.float64).tofile(out)
        return
    if mode == "groups":
        size = int(sys.argv[5])
        results = []
        for g in range(0, len(pts), size):
            group = o3d.geometry.PointCloud()
            group.points = o3d.utility.Vector3dVector(pts[g:g + size])
            results.append(np.asarray(group.farthest_point_down_sample(count).points))
        np.concatenate(results).astype(np.float64).tofile(out)
        return
    if mode != "order":
        sys.exit(f"open3d_fps.py: unknown mode {mode}")
    # Open3D 0.16 returns the picked points in input order, not pick order. Sampling m points
    # gives the first m picks (the loop is deterministic), so pick m is the one point that
    # sample(m) has and sample(m - 1) lacks; none new means the last pick was repeated.
    if len(np.unique(pts, axis=0)) != len(pts):
        sys.exit("open3d_fps.py: 'order' needs distinct points")
    index = {tuple(p): i for i, p in enumerate(pts)}
    picks, seen = [], set()
    for m in range(1, count + 1):
        got = {index[tuple(p)] for p in np.asarray(cloud.farthest_point_down_sample(m).points)}
        new = got - seen
        if len(new) > 1:
            sys.exit(f"open3d_fps.py: sample({m}) added {len(new)} points")
        picks.append(new.pop() if new else picks[-1])
        seen = got
    np.asarray(picks, dtype=np.int64).tofile(out)


if __name__ == "__main__":
    main()
