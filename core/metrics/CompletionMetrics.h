#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"
#include "core/metrics/Emd.h"
#include "core/metrics/HistogramJsd.h"
#include "core/metrics/PrecisionRecall.h"
#include "core/metrics/VoxelIoU.h"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lidistill::metrics {

/// What evaluateScan computes and how the sequence table is integrated.
struct EvaluationOptions {
    std::vector<double> voxelSizes{0.5, 0.2, 0.1};         ///< completion-IoU voxel sizes, metres
    std::vector<double> thresholds = defaultThresholds();  ///< precision/recall thresholds
    JsdGrid jsdGrid;                                       ///< LiDiff's 0.5 m over +-50 m
    SimpsonRule simpsonRule = SimpsonRule::Cartwright;     ///< SciPy >= 1.11 by default
    bool computeEmd = false;  ///< Distillation-DPO's EMD; slow (O(voxels^2)), so opt-in
    EmdOptions emd;
    bool keepPerPointDistances = false;  ///< keep the NN distances (error heatmaps)
};

/// Every per-scan number of LiDiff's / DPO's evaluation (reference §7).
struct ScanMetrics {
    std::size_t predPoints = 0;
    std::size_t gtPoints = 0;
    double chamfer = 0.0;   ///< CD: 0.5 * (gtToPred + predToGt), metres
    double gtToPred = 0.0;  ///< mean GT -> prediction NN distance
    double predToGt = 0.0;  ///< mean prediction -> GT NN distance; LiDiff's per-scan "RMSE"
    double jsdBev = 0.0;    ///< Jensen-Shannon distance of BEV occupancy
    double jsd3d = 0.0;     ///< Jensen-Shannon distance of 3D point counts
    std::vector<VoxelConfusion> voxelCurrent;  ///< per voxel size, current LiDiff IoU
    std::vector<VoxelConfusion> voxelOld;      ///< per voxel size, old (ScoreLiDAR/DPO) IoU
    PrecisionRecallCurve precisionRecall;      ///< percent, per threshold
    std::optional<double> emd;                 ///< set when computeEmd and the scan was not skipped
    bool emdSkipped = false;                   ///< computeEmd, but more than maxVoxels voxels
    std::vector<double> gtToPredDistances;     ///< per GT point (if keepPerPointDistances)
    std::vector<double> predToGtDistances;     ///< per predicted point (if keepPerPointDistances)
};

/// Evaluates one completed scan against its ground truth.
/// @param progress may be null; cancellation is polled between metrics and inside NN / EMD.
/// @throws InvalidArgument if a cloud is empty, has non-finite coordinates or no point inside
///         the JSD cube, or the options are invalid; Cancelled if `progress` asks to stop.
/// Thread-safety: reentrant (parallel inside).
ScanMetrics evaluateScan(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                         const EvaluationOptions& options = {}, ProgressSink* progress = nullptr);

inline ScanMetrics evaluateScan(const PointCloud& pred, const PointCloud& gt,
                                const EvaluationOptions& options = {},
                                ProgressSink* progress = nullptr) {
    return evaluateScan(pred.xyz, gt.xyz, options, progress);
}

/// The table LiDiff / ScoreLiDAR / DPO print at the end of a sequence.
struct SequenceMetrics {
    std::size_t scans = 0;
    double cdMean = 0.0;    ///< mean over scans of the CD
    double cdStd = 0.0;     ///< population std (numpy's default) over scans
    double jsdBev = 0.0;    ///< mean over scans
    double jsd3d = 0.0;     ///< mean over scans
    double rmseMean = 0.0;  ///< mean over scans of the mean pred -> GT distance
    double rmseStd = 0.0;
    std::vector<double> voxelSizes;
    std::vector<VoxelConfusion> voxelCurrent;  ///< counts summed over the sequence
    std::vector<VoxelConfusion> voxelOld;
    std::vector<double> iouCurrent;  ///< fractions (LiDiff prints x100 in papers)
    std::vector<double> iouOld;
    PrecisionRecallAuc auc;          ///< percent
    PrecisionRecallCurve meanCurve;  ///< per-threshold means over scans
    std::optional<double> emdMean;   ///< over scans with an EMD; nullopt if none
    std::optional<double> emdStd;
    std::size_t emdScans = 0;
    std::size_t emdSkipped = 0;

    /// Multi-line human-readable table (metres, percent for IoU and P/R/F).
    std::string toText() const;
};

/// Accumulates ScanMetrics over a sequence in the way the reference scripts do (CD, JSD,
/// RMSE, EMD: means over scans; IoU: counts summed; P/R/F: curves averaged, then AUC).
/// Not thread-safe: add() from one thread (evaluate scans in parallel, add in order).
class SequenceAccumulator {
public:
    explicit SequenceAccumulator(EvaluationOptions options = {});
    /// @throws InvalidArgument if the scan was computed with other voxel sizes or thresholds.
    void add(const ScanMetrics& scan);
    std::size_t scans() const noexcept { return m_scans; }
    /// @throws InvalidArgument if no scan was added.
    SequenceMetrics result() const;

private:
    EvaluationOptions m_options;
    std::size_t m_scans = 0;
    std::vector<double> m_cd;
    std::vector<double> m_rmse;
    std::vector<double> m_emd;
    std::size_t m_emdSkipped = 0;
    double m_jsdBevSum = 0.0;
    double m_jsd3dSum = 0.0;
    VoxelIoUAccumulator m_current;
    VoxelIoUAccumulator m_old;
    PrecisionRecallAccumulator m_pr;
};

}  // namespace lidistill::metrics
