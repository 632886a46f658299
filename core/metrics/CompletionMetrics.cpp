// SPDX-License-Identifier: MIT
#include "core/metrics/CompletionMetrics.h"

#include "core/base/Error.h"
#include "core/metrics/ChamferDistance.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

namespace lidistill::metrics {

ScanMetrics evaluateScan(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                         const EvaluationOptions& options, ProgressSink* progress) {
    ScanMetrics m;
    m.predPoints = pred.size();
    m.gtPoints = gt.size();
    const double nnEnd = options.computeEmd ? 0.3 : 0.7;
    const double voxEnd = options.computeEmd ? 0.4 : 0.95;
    {
        SubProgress sub(progress, 0.0, nnEnd);
        ChamferResult cd = chamferDistance(pred, gt, &sub);
        m.chamfer = cd.chamfer;
        m.gtToPred = cd.gtToPred;
        m.predToGt = cd.predToGt;
        m.precisionRecall =
            precisionRecall(cd.predToGtDistances, cd.gtToPredDistances, options.thresholds);
        if (options.keepPerPointDistances) {
            m.gtToPredDistances = std::move(cd.gtToPredDistances);
            m.predToGtDistances = std::move(cd.predToGtDistances);
        }
    }
    checkpoint(progress, nnEnd, "histograms");
    std::tie(m.jsdBev, m.jsd3d) = jensenShannonBevAnd3d(pred, gt, options.jsdGrid);
    for (const double v : options.voxelSizes) {
        checkpoint(progress, nnEnd, "voxel IoU");
        m.voxelCurrent.push_back(voxelConfusion(pred, gt, v, VoxelIoUDefinition::Current));
        m.voxelOld.push_back(voxelConfusion(pred, gt, v, VoxelIoUDefinition::Old));
    }
    if (options.computeEmd) {
        SubProgress sub(progress, voxEnd, 1.0);
        m.emd = sinkhornEmd(pred, gt, options.emd, &sub);
        m.emdSkipped = !m.emd.has_value();
    }
    checkpoint(progress, 1.0, "metrics");
    return m;
}

namespace {

std::pair<double, double> meanStd(const std::vector<double>& x) {
    if (x.empty()) {
        return {0.0, 0.0};
    }
    double s = 0.0;
    for (const double v : x) {
        s += v;
    }
    const double mean = s / static_cast<double>(x.size());
    double q = 0.0;
    for (const double v : x) {
        q += (v - mean) * (v - mean);
    }
    return {mean, std::sqrt(q / static_cast<double>(x.size()))};
}

}  // namespace

SequenceAccumulator::SequenceAccumulator(EvaluationOptions options)
    : m_options(std::move(options)),
      m_current(m_options.voxelSizes, VoxelIoUDefinition::Current),
      m_old(m_options.voxelSizes, VoxelIoUDefinition::Old),
      m_pr(m_options.thresholds) {}

void SequenceAccumulator::add(const ScanMetrics& scan) {
    // Validate everything first so that a rejected scan leaves the accumulator unchanged.
    const std::size_t nv = m_options.voxelSizes.size();
    if (scan.voxelCurrent.size() != nv || scan.voxelOld.size() != nv) {
        throw InvalidArgument("SequenceAccumulator: the scan was evaluated at other voxel sizes.");
    }
    if (scan.precisionRecall.thresholds != m_options.thresholds) {
        throw InvalidArgument("SequenceAccumulator: the scan was evaluated at other thresholds.");
    }
    m_current.add(scan.voxelCurrent);
    m_old.add(scan.voxelOld);
    m_pr.add(scan.precisionRecall);
    ++m_scans;
    m_cd.push_back(scan.chamfer);
    m_rmse.push_back(scan.predToGt);
    m_jsdBevSum += scan.jsdBev;
    m_jsd3dSum += scan.jsd3d;
    if (scan.emd) {
        m_emd.push_back(*scan.emd);
    }
    if (scan.emdSkipped) {
        ++m_emdSkipped;
    }
}

SequenceMetrics SequenceAccumulator::result() const {
    if (m_scans == 0) {
        throw InvalidArgument("SequenceAccumulator: no scan was added.");
    }
    SequenceMetrics r;
    r.scans = m_scans;
    std::tie(r.cdMean, r.cdStd) = meanStd(m_cd);
    std::tie(r.rmseMean, r.rmseStd) = meanStd(m_rmse);
    r.jsdBev = m_jsdBevSum / static_cast<double>(m_scans);
    r.jsd3d = m_jsd3dSum / static_cast<double>(m_scans);
    r.voxelSizes = m_options.voxelSizes;
    r.voxelCurrent = m_current.result();
    r.voxelOld = m_old.result();
    r.iouCurrent = m_current.iou();
    r.iouOld = m_old.iou();
    r.auc = m_pr.auc(m_options.simpsonRule);
    r.meanCurve = m_pr.meanCurve();
    if (!m_emd.empty()) {
        const auto [mean, sd] = meanStd(m_emd);
        r.emdMean = mean;
        r.emdStd = sd;
    }
    r.emdScans = m_emd.size();
    r.emdSkipped = m_emdSkipped;
    return r;
}

std::string SequenceMetrics::toText() const {
    std::ostringstream os;
    char buf[160];
    std::snprintf(buf, sizeof buf, "Scans: %zu\n", scans);
    os << buf;
    std::snprintf(buf, sizeof buf, "CD mean: %.4f m   CD std: %.4f m\n", cdMean, cdStd);
    os << buf;
    std::snprintf(buf, sizeof buf, "JSD BEV: %.4f   JSD 3D: %.4f\n", jsdBev, jsd3d);
    os << buf;
    for (std::size_t i = 0; i < voxelSizes.size(); ++i) {
        std::snprintf(buf, sizeof buf, "IoU %.2f m: current %6.2f %%   old %6.2f %%\n",
                      voxelSizes[i], 100.0 * iouCurrent[i], 100.0 * iouOld[i]);
        os << buf;
    }
    std::snprintf(buf, sizeof buf, "Precision AUC: %.2f   Recall AUC: %.2f   F-score AUC: %.2f\n",
                  auc.precision, auc.recall, auc.fscore);
    os << buf;
    std::snprintf(buf, sizeof buf, "RMSE mean: %.4f m   RMSE std: %.4f m\n", rmseMean, rmseStd);
    os << buf;
    if (emdMean) {
        std::snprintf(buf, sizeof buf, "EMD mean: %.4f   std: %.4f   (%zu scans, %zu skipped)\n",
                      *emdMean, emdStd.value_or(0.0), emdScans, emdSkipped);
        os << buf;
    } else if (emdSkipped > 0) {
        std::snprintf(buf, sizeof buf, "EMD: all %zu scans skipped (too many voxels)\n",
                      emdSkipped);
        os << buf;
    }
    return os.str();
}

}  // namespace lidistill::metrics
