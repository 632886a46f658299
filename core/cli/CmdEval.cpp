// SPDX-License-Identifier: MIT
// `lidistill eval`: completion metrics of predictions against ground truth (reference §7).
#include "core/base/Error.h"
#include "core/base/Strings.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/map/SequenceMap.h"
#include "core/metrics/CompletionMetrics.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

namespace lidistill::cli {
namespace fs = std::filesystem;

namespace {

/// "000003.pcd.bin" -> "000003"; "000003_gt.ply" -> "000003" (a trailing _gt/_pred/_pc is
/// how the reference scripts and our `gt` command name their files).
std::string frameKey(const fs::path& file) {
    std::string s = file.filename().string();
    const auto dot = s.find('.');
    if (dot != std::string::npos) s = s.substr(0, dot);
    for (const char* suffix : {"_gt", "_pred", "_pc", "_completed", "_refined"}) {
        const std::string suf(suffix);
        if (s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0) {
            s.resize(s.size() - suf.size());
        }
    }
    return s;
}

std::vector<fs::path> cloudFiles(const fs::path& p) {
    if (!fs::exists(p)) throw IoError(p, "no such file or folder");
    std::vector<fs::path> files;
    if (!fs::is_directory(p)) return {p};
    for (const auto& e : fs::directory_iterator(p)) {
        if (!e.is_regular_file()) continue;
        try {
            io::formatFromPath(e.path());
            files.push_back(e.path());
        } catch (const IoError&) {
            // Not a point-cloud file (a README, a JSON): ignore it.
        }
    }
    if (files.empty()) throw IoError(p, "folder holds no .bin, .pcd.bin, .pcd or .ply files");
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        return naturalLess(a.string(), b.string());
    });
    return files;
}

/// Where ground truth comes from: a file, a folder of files by frame name, or a sequence map.
class GroundTruthSource {
public:
    GroundTruthSource(const Args& args, Context& ctx) {
        if (auto gt = args.value("gt")) {
            m_path = *gt;
            if (fs::is_directory(m_path)) {
                for (const auto& f : cloudFiles(m_path)) m_byKey[frameKey(f)] = f;
            } else if (!fs::exists(m_path)) {
                throw IoError(m_path, "no such file or folder");
            }
        } else if (auto seqDir = args.value("sequence")) {
            m_sequence = Sequence::open(*seqDir);
            TerminalProgress bar(ctx.err, "eval: map", ctx.errIsTerminal);
            m_map = args.value("map")
                        ? map::loadOrBuildStaticMap(*m_sequence, *args.value("map"), {}, &bar)
                        : map::buildStaticMap(*m_sequence, {}, &bar);
            for (std::size_t i = 0; i < m_sequence->size(); ++i) {
                m_frameIndex[m_sequence->frameName(i)] = i;
            }
        } else {
            throw UsageError("give the ground truth with --gt FILE|FOLDER or --sequence DIR");
        }
    }

    PointCloud groundTruthFor(const fs::path& pred, bool singlePrediction) const {
        if (m_sequence) {
            auto it = m_frameIndex.find(frameKey(pred));
            if (it == m_frameIndex.end()) {
                throw IoError(pred, "no frame named '" + frameKey(pred) + "' in sequence " +
                                        m_sequence->dir().string());
            }
            return map::groundTruthForFrame(*m_sequence, m_map, it->second);
        }
        if (!fs::is_directory(m_path)) {
            if (!singlePrediction) {
                throw UsageError(
                    "--gt is one file but the prediction is a folder; give a GT folder");
            }
            return io::readCloud(m_path);
        }
        auto it = m_byKey.find(frameKey(pred));
        if (it == m_byKey.end()) {
            throw IoError(pred, "no ground-truth file for frame '" + frameKey(pred) + "' in " +
                                    m_path.string());
        }
        return io::readCloud(it->second);
    }

private:
    fs::path m_path;
    std::map<std::string, fs::path> m_byKey;
    std::optional<Sequence> m_sequence;
    map::StaticMap m_map;
    std::map<std::string, std::size_t> m_frameIndex;
};

nlohmann::json scanJson(const std::string& name, const metrics::ScanMetrics& m,
                        const std::vector<double>& voxelSizes) {
    nlohmann::json j{{"frame", name},
                     {"pred_points", m.predPoints},
                     {"gt_points", m.gtPoints},
                     {"chamfer", m.chamfer},
                     {"gt_to_pred", m.gtToPred},
                     {"pred_to_gt", m.predToGt},
                     {"jsd_bev", m.jsdBev},
                     {"jsd_3d", m.jsd3d}};
    for (std::size_t k = 0; k < voxelSizes.size(); ++k) {
        const std::string v = std::to_string(voxelSizes[k]).substr(0, 4);
        j["iou_" + v] = m.voxelCurrent[k].iou();
        j["iou_old_" + v] = m.voxelOld[k].iou();
    }
    if (m.emd) j["emd"] = *m.emd;
    if (m.emdSkipped) j["emd_skipped"] = true;
    return j;
}

nlohmann::json summaryJson(const metrics::SequenceMetrics& s) {
    nlohmann::json j{{"scans", s.scans},           {"chamfer_mean", s.cdMean},
                     {"chamfer_std", s.cdStd},     {"jsd_bev", s.jsdBev},
                     {"jsd_3d", s.jsd3d},          {"rmse_mean", s.rmseMean},
                     {"rmse_std", s.rmseStd},      {"precision_auc", s.auc.precision},
                     {"recall_auc", s.auc.recall}, {"fscore_auc", s.auc.fscore}};
    nlohmann::json iou = nlohmann::json::array();
    for (std::size_t k = 0; k < s.voxelSizes.size(); ++k) {
        iou.push_back({{"voxel", s.voxelSizes[k]},
                       {"iou", s.iouCurrent[k]},
                       {"precision", s.voxelCurrent[k].precision()},
                       {"recall", s.voxelCurrent[k].recall()},
                       {"iou_old", s.iouOld[k]}});
    }
    j["voxel_iou"] = iou;
    if (s.emdMean) {
        j["emd_mean"] = *s.emdMean;
        j["emd_scans"] = s.emdScans;
    }
    j["emd_skipped"] = s.emdSkipped;
    return j;
}

int runEval(const Args& args, Context& ctx) {
    const auto preds = cloudFiles(args.positional().at(0));
    const GroundTruthSource gtSource(args, ctx);
    metrics::EvaluationOptions opt;
    opt.computeEmd = args.flag("emd");
    const std::string simpson = args.value("simpson", "scipy-1.11");
    if (simpson == "scipy-1.10") {
        opt.simpsonRule = metrics::SimpsonRule::Average;
    } else if (simpson != "scipy-1.11") {
        throw UsageError("--simpson expects scipy-1.11 or scipy-1.10");
    }
    metrics::SequenceAccumulator acc(opt);
    nlohmann::json perScan = nlohmann::json::array();
    const bool json = args.flag("json"), perScanText = args.flag("per-scan");
    if (perScanText && !json) {
        ctx.out << std::left << std::setw(16) << "frame" << std::right << std::setw(9) << "pred"
                << std::setw(9) << "gt" << std::setw(9) << "CD" << std::setw(9) << "JSD-BEV"
                << std::setw(9) << "IoU0.5" << '\n';
    }
    {
        TerminalProgress bar(ctx.err, "eval", ctx.errIsTerminal);
        for (std::size_t i = 0; i < preds.size(); ++i) {
            checkpoint(&bar, double(i) / preds.size(), preds[i].filename().string());
            const PointCloud pred = io::readCloud(preds[i]);
            const PointCloud gt = gtSource.groundTruthFor(preds[i], preds.size() == 1);
            const auto m = metrics::evaluateScan(pred, gt, opt);
            acc.add(m);
            perScan.push_back(scanJson(frameKey(preds[i]), m, opt.voxelSizes));
            if (perScanText && !json) {
                ctx.out << std::left << std::setw(16) << frameKey(preds[i]) << std::right
                        << std::setw(9) << m.predPoints << std::setw(9) << m.gtPoints << std::fixed
                        << std::setprecision(4) << std::setw(9) << m.chamfer << std::setw(9)
                        << m.jsdBev << std::setw(9) << m.voxelCurrent[0].iou() << '\n';
            }
        }
        bar.report(1.0, "done");
    }
    const auto summary = acc.result();
    if (json) {
        ctx.out << nlohmann::json{{"scans", perScan}, {"summary", summaryJson(summary)}}.dump(2)
                << '\n';
    } else {
        ctx.out << summary.toText();
    }
    return kOk;
}

}  // namespace

Command evalCommand() {
    Command c;
    c.name = "eval";
    c.summary = "Score predicted completions against ground truth (CD, JSD, IoU, P/R/F, EMD)";
    c.synopsis = "PREDICTION";
    c.description =
        "PREDICTION is a point-cloud file or a folder of them. Ground truth comes from --gt (a\n"
        "file, or a folder matched by frame name: 000003.ply <-> 000003_gt.ply) or from\n"
        "--sequence (the reference §7.1 crop of the sequence's static map for the frame of the\n"
        "same name). Metrics follow reference §7: CD averaged over scans, BEV and 3D JSD, voxel\n"
        "IoU at 0.5/0.2/0.1 m with counts summed over the sequence (current and old LiDiff\n"
        "definitions), precision/recall/F-score AUC over 0.05-0.10 m, RMSE; EMD with --emd.";
    c.options = {{"gt", "PATH", "ground-truth file or folder", false, ""},
                 {"sequence", "DIR", "sequence folder whose map gives the ground truth", false, ""},
                 {"map", "FILE", "with --sequence: map cache file (.ldmap)", false, ""},
                 {"emd", "", "also compute Distillation-DPO's EMD (slow)", true, ""},
                 {"simpson", "RULE", "AUC rule: scipy-1.11 or scipy-1.10", false, "scipy-1.11"},
                 {"per-scan", "", "print one row per scan", true, ""},
                 {"json", "", "print JSON (per scan and summary)", true, ""}};
    c.minPositional = c.maxPositional = 1;
    c.run = runEval;
    return c;
}

}  // namespace lidistill::cli
