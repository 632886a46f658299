#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Times Open3D's farthest_point_down_sample for bench_geometry.

Usage: open3d_fps_time.py IN.bin COUNT REPS   (IN: float32 x,y,z,w records)
Prints one line per run: "fps_s SECONDS points N".
"""
import sys
import time

import numpy as np
import open3d as o3d

pts = np.fromfile(sys.argv[1], dtype=np.float32).reshape(-1, 4)[:, :3].astype(np.float64)
cloud = o3d.geometry.PointCloud()
cloud.points = o3d.utility.Vector3dVector(pts)
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    out = cloud.farthest_point_down_sample(int(sys.argv[2]))
    print(f"fps_s {time.perf_counter() - t0:.6f} points {len(out.points)}", flush=True)
