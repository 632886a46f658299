#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Independent reference for tests/core/metrics: LiDiff's / DPO's metric code paths, written
with the same libraries they use (Open3D compute_point_cloud_distance, numpy histogramdd,
scipy jensenshannon and simpson, scipy cdist).

Usage:
  metrics_reference.py metrics OUT_DIR PRED1.bin GT1.bin [PRED2.bin GT2.bin ...]
  metrics_reference.py emd EPSILON MAX_ITER PRED.bin GT.bin
Clouds are float32 x,y,z,w files. Prints "key value" lines; in 'metrics' mode also writes the
per-point NN distances of each pair as float64 files OUT_DIR/pairN_{pred2gt,gt2pred}.f64.
Exits non-zero with a message on stderr if a module is missing.
"""
import sys

try:
    import numpy as np
    import open3d as o3d
    import scipy
    import scipy.integrate
    from scipy.spatial.distance import cdist, jensenshannon
except ImportError as e:  # the C++ test turns this into a failure with the message
    sys.stderr.write(f"metrics_reference.py: missing Python module: {e}\n")
    sys.exit(3)

MAX_RANGE = 50.0


def load(path):
    return np.fromfile(path, dtype=np.float32).reshape(-1, 4)[:, :3].astype(np.float64)


def pcd(points):
    p = o3d.geometry.PointCloud()
    p.points = o3d.utility.Vector3dVector(points)
    return p


def histogram(points, resolution, bev):
    # LiDiff histogram_metrics.histogram_point_cloud
    bins = int(2 * MAX_RANGE / resolution)
    rng = ([-MAX_RANGE, MAX_RANGE],) * 3
    h = np.histogramdd(points, bins=bins, range=rng)[0]
    return np.clip(h, a_min=0.0, a_max=1.0) if bev else h


def jsd(gt, pred, bev):
    # LiDiff histogram_metrics.compute_jsd
    hg = histogram(gt, 0.5, bev)
    hp = histogram(pred, 0.5, bev)
    bg = hg.sum(-1) if bev else hg
    bp = hp.sum(-1) if bev else hp
    return jensenshannon((bg / bg.sum()).flatten(), (bp / bp.sum()).flatten())


def occupancy_dense(points, vsize, old):
    # LiDiff CompletionIoU.update (old: round to indices first)
    bins = int(2 * MAX_RANGE / vsize)
    coords = np.round(points / vsize).astype(int) if old else points
    rng = ([-MAX_RANGE, MAX_RANGE],) * 3
    return np.histogramdd(coords, bins=bins, range=rng)[0].astype(bool)


def occupancy_sparse(points, vsize, old):
    # The same binning as numpy.histogramdd (linspace edges, searchsorted side='right',
    # right edge into the last bin), without the dense grid that 0.1 m would need (8 GB).
    bins = int(2 * MAX_RANGE / vsize)
    coords = np.round(points / vsize).astype(int).astype(np.float64) if old else points
    edges = np.linspace(-MAX_RANGE, MAX_RANGE, bins + 1)
    key = np.zeros(len(coords), dtype=np.int64)
    keep = np.ones(len(coords), dtype=bool)
    for a in range(3):
        i = np.searchsorted(edges, coords[:, a], side='right')
        i[coords[:, a] == edges[-1]] -= 1
        keep &= (i >= 1) & (i <= bins)
        key = key * bins + (i - 1)
    return np.unique(key[keep])


def confusion_dense(gt, pred, vsize, old):
    g = occupancy_dense(gt, vsize, old)
    p = occupancy_dense(pred, vsize, old)
    return int((g & p).sum()), int((g & ~p).sum()), int((~g & p).sum())


def confusion_sparse(gt, pred, vsize, old):
    g = occupancy_sparse(gt, vsize, old)
    p = occupancy_sparse(pred, vsize, old)
    tp = len(np.intersect1d(g, p, assume_unique=True))
    return tp, len(g) - tp, len(p) - tp


def simpson_cartwright(y, dx):
    # SciPy >= 1.11 even-N rule, for comparison when the installed SciPy is older.
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    if n % 2 == 1:
        return scipy.integrate.simpson(y, dx=dx)
    body = np.sum(y[0:n - 3:2] + 4.0 * y[1:n - 2:2] + y[2:n - 1:2]) * dx / 3.0
    h0 = h1 = dx
    alpha = (2 * h1 ** 2 + 3 * h0 * h1) / (6 * (h1 + h0))
    beta = (h1 ** 2 + 3.0 * h0 * h1) / (6 * h0)
    eta = h1 ** 3 / (6 * h0 * (h0 + h1))
    return body + alpha * y[-1] + beta * y[-2] - eta * y[-3]


def metrics(out_dir, files):
    print(f"scipy_version {scipy.__version__.split('.')[0]}.{scipy.__version__.split('.')[1]}")
    thresholds = np.linspace(0.05, 2 * 0.05, 100)
    pr_lists = {t: ([], [], []) for t in thresholds}
    cds, rmses = [], []
    conf = {}
    for k in range(0, len(files), 2):
        pair = k // 2
        pred, gt = load(files[k]), load(files[k + 1])
        pp, pg = pcd(pred), pcd(gt)
        d_pg = np.asarray(pp.compute_point_cloud_distance(pg))
        d_gp = np.asarray(pg.compute_point_cloud_distance(pp))
        d_pg.astype(np.float64).tofile(f"{out_dir}/pair{pair}_pred2gt.f64")
        d_gp.astype(np.float64).tofile(f"{out_dir}/pair{pair}_gt2pred.f64")
        cd = (np.mean(d_gp) + np.mean(d_pg)) / 2
        cds.append(cd)
        rmses.append(np.mean(d_pg))
        print(f"pair{pair}_cd {cd!r}")
        print(f"pair{pair}_gt2pred {np.mean(d_gp)!r}")
        print(f"pair{pair}_pred2gt {np.mean(d_pg)!r}")
        print(f"pair{pair}_jsd_bev {jsd(gt, pred, True)!r}")
        print(f"pair{pair}_jsd_3d {jsd(gt, pred, False)!r}")
        for t in thresholds:
            p = 100 / len(d_pg) * len(np.where(d_pg < t)[0])
            r = 100 / len(d_gp) * len(np.where(d_gp < t)[0])
            f = 0 if p == 0 or r == 0 else 2 * p * r / (p + r)
            pr_lists[t][0].append(p)
            pr_lists[t][1].append(r)
            pr_lists[t][2].append(f)
        for old in (False, True):
            name = "old" if old else "current"
            for vsize in (0.5, 0.2, 0.1):
                c = confusion_sparse(gt, pred, vsize, old)
                if vsize == 0.5:
                    # The sparse emulation must agree with numpy's own histogramdd.
                    dense = confusion_dense(gt, pred, vsize, old)
                    if dense != c:
                        sys.stderr.write(f"sparse/dense histogram mismatch {dense} {c}\n")
                        sys.exit(4)
                print(f"pair{pair}_{name}_{vsize} {c[0]} {c[1]} {c[2]}")
                acc = conf.setdefault((name, vsize), [0, 0, 0])
                for i in range(3):
                    acc[i] += c[i]
    print(f"seq_cd_mean {np.array(cds).mean()!r}")
    print(f"seq_cd_std {np.array(cds).std()!r}")
    print(f"seq_rmse_mean {np.array(rmses).mean()!r}")
    print(f"seq_rmse_std {np.array(rmses).std()!r}")
    for (name, vsize), (tp, fn, fp) in conf.items():
        print(f"seq_iou_{name}_{vsize} {tp / (tp + fn + fp + 1e-15)!r}")
    # LiDiff PrecisionRecall.compute_auc, with the installed SciPy's default rule ...
    dx = thresholds[1] - thresholds[0]
    curves = [[sum(pr_lists[t][i]) / len(pr_lists[t][i]) for t in thresholds] for i in range(3)]
    ones = np.ones_like(thresholds)
    perfect = scipy.integrate.simpson(ones, dx=dx)
    for name, y in zip(("precision", "recall", "fscore"), curves):
        print(f"auc_scipy_{name} {scipy.integrate.simpson(y, dx=dx) / perfect!r}")
        print(f"auc_cartwright_{name} {simpson_cartwright(y, dx) / simpson_cartwright(ones, dx)!r}")
    for i, t in enumerate((0, 37, 99)):
        print(f"curve_t{t} {curves[0][t]!r} {curves[1][t]!r} {curves[2][t]!r}")


def emd(epsilon, max_iter, pred_file, gt_file):
    # Distillation-DPO utils/EMD.py, dense as written there.
    def voxelize(points, voxel_size):
        idx = np.floor(points / voxel_size).astype(int)
        uniq, counts = np.unique(idx, axis=0, return_counts=True)
        return (uniq + 0.5) * voxel_size, counts / counts.sum()

    c1, w1 = voxelize(load(pred_file), 0.5)
    c2, w2 = voxelize(load(gt_file), 0.5)
    print(f"voxels {len(c1)} {len(c2)}")
    cost = cdist(c1, c2, metric='euclidean')
    K = np.exp(-cost / epsilon)
    K += 1e-9
    u = np.ones_like(w1)
    v = np.ones_like(w2)
    it = 0
    for it in range(max_iter):
        u_prev = u.copy()
        u = w1 / (K @ v)
        v = w2 / (K.T @ u)
        if np.linalg.norm(u - u_prev, 1) < 1e-4:
            break
    print(f"iterations {it + 1}")
    print(f"emd {np.sum(np.outer(u, v) * K * cost)!r}")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "metrics" and len(sys.argv) % 2 == 1:
        metrics(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) == 6 and sys.argv[1] == "emd":
        emd(float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
