#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Times Open3D's Chamfer distance (LiDiff's ChamferDistance.update) on two float32 x,y,z,w
files. Prints: "load_s X", then per repetition "cd_s WALL cpu_s CPU value V"."""
import sys
import time

import numpy as np
import open3d as o3d


def main(pred_file, gt_file, reps):
    pred = np.fromfile(pred_file, dtype=np.float32).reshape(-1, 4)[:, :3].astype(np.float64)
    gt = np.fromfile(gt_file, dtype=np.float32).reshape(-1, 4)[:, :3].astype(np.float64)
    t0 = time.perf_counter()
    pp = o3d.geometry.PointCloud()
    pp.points = o3d.utility.Vector3dVector(pred)
    pg = o3d.geometry.PointCloud()
    pg.points = o3d.utility.Vector3dVector(gt)
    print(f"load_s {time.perf_counter() - t0}")
    for _ in range(reps):
        t0 = time.perf_counter()
        c0 = time.process_time()
        d_pg = np.asarray(pp.compute_point_cloud_distance(pg))
        d_gp = np.asarray(pg.compute_point_cloud_distance(pp))
        cd = (np.mean(d_gp) + np.mean(d_pg)) / 2
        print(f"cd_s {time.perf_counter() - t0} cpu_s {time.process_time() - c0} value {cd!r}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
