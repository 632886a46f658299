// SPDX-License-Identifier: MIT
// `lidistill eval-models`: teacher and student against the input scan and a non-learned
// baseline, on held-out frames, with the metrics of reference 7 and the time a scan takes.
#ifdef LIDISTILL_HAVE_ML
#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#include "core/cli/TrainSetup.h"
#include "core/dataset/Sequence.h"
#include "core/geometry/FarthestPointSampling.h"
#include "core/map/SequenceMap.h"
#include "core/metrics/ChamferDistance.h"
#include "core/metrics/CompletionMetrics.h"
#include "core/ml/Completion.h"
#include "core/ml/Model.h"

#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct Row {
    std::string name;
    metrics::SequenceAccumulator acc;
    double seconds = 0;
    double points = 0;
    explicit Row(std::string n) : name(std::move(n)) {}
};

struct Frame {
    std::string name;
    PointCloud scan, truth;
};

std::vector<int> stepList(const Args& args, const char* name, const std::string& fallback) {
    std::vector<int> out;
    std::stringstream ss(args.value(name, fallback));
    for (std::string w; std::getline(ss, w, ',');) {
        std::size_t v = 0;
        if (!parseIndex(w, v) || v < 1 || v > 1000) {
            throw UsageError(std::string("--") + name + " expects steps like 50,8, got '" + w +
                             "'");
        }
        out.push_back(static_cast<int>(v));
    }
    return out;
}

// The non-learned baseline: the model-scale partial scan tiled with Gaussian jitter, as many
// points as the diffusion's output.
PointCloud jitterBaseline(const PointCloud& scan, const ml::ModelScale& s, double sigma,
                          std::uint64_t seed) {
    const PointCloud kept = withinRange(scan, s.minRange, s.maxRange);
    if (kept.empty()) throw InvalidArgument("baseline: the scan has no point in range");
    const PointCloud part =
        geometry::farthestPointSample(kept, std::min(s.partialPoints, kept.size()));
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> n(0.f, static_cast<float>(sigma));
    PointCloud out;
    for (int k = 0; k < s.tile; ++k) {
        for (const auto& p : part.xyz)
            out.xyz.push_back({p[0] + n(rng), p[1] + n(rng), p[2] + n(rng)});
    }
    return out;
}

std::vector<Frame> readFrames(const std::vector<std::string>& seqDirs, const Args& args,
                              const char* framesOption, const fs::path& cacheDir,
                              const ml::ModelScale& scale, ProgressSink* progress) {
    std::vector<Frame> frames;
    for (const auto& dir : seqDirs) {
        const Sequence seq = Sequence::open(dir);
        if (!seq.hasPoses()) throw IoError(seq.dir(), "evaluation needs poses.txt (the map)");
        const auto idx = frameRange(args, seq.size(), framesOption);
        // The map of the whole sequence (reference 7.1), cached outside the dataset.
        const auto key = std::hash<std::string>{}(fs::weakly_canonical(seq.dir()).string());
        SubProgress sub(progress, 0.0, 0.0);
        const auto m = map::loadOrBuildStaticMap(
            seq, cacheDir / (seq.dir().filename().string() + "-" + std::to_string(key) + ".ldmap"),
            {}, &sub);
        for (auto i : idx) {
            frames.push_back({seq.dir().filename().string() + "/" + seq.frameName(i),
                              seq.loadScan(i),
                              map::groundTruthForFrame(seq, m, i, groundTruthFor(scale))});
        }
    }
    return frames;
}

double chooseSigma(const std::vector<Frame>& frames, const ml::ModelScale& scale,
                   std::ostream& out) {
    double best = 0, bestCd = 1e300;
    for (double sigma : {0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5}) {
        double cd = 0;
        for (std::size_t i = 0; i < frames.size(); ++i) {
            const auto b = jitterBaseline(frames[i].scan, scale, sigma, i);
            cd += metrics::chamferDistance(b, frames[i].truth).chamfer / double(frames.size());
        }
        out << "  baseline sigma " << sigma << " m: CD " << std::setprecision(4) << cd << '\n';
        if (cd < bestCd) {
            bestCd = cd;
            best = sigma;
        }
    }
    return best;
}

int runEvalModels(const Args& args, Context& ctx) {
    const auto& seqDirs = args.positional();
    const auto teacherSteps = stepList(args, "teacher-steps", "50,8");
    const auto studentSteps = stepList(args, "student-steps", "1,2,4,8");
    const std::uint64_t seed = static_cast<std::uint64_t>(std::max(0LL, args.integer("seed", 0)));
    std::optional<ml::LidiffModel> teacher, student;
    if (auto t = args.value("teacher")) teacher.emplace(ml::LidiffModel::load(*t));
    if (auto s = args.value("student")) student.emplace(ml::LidiffModel::load(*s));
    // --students NAME=FILE,...: more students, one row group each (the ablation table).
    std::deque<std::pair<std::string, std::optional<ml::LidiffModel>>> more;
    if (auto list = args.value("students")) {
        std::stringstream ss(*list);
        for (std::string item; std::getline(ss, item, ',');) {
            const auto eq = item.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
                throw UsageError("--students expects NAME=FILE[,NAME=FILE...], got '" + item + "'");
            }
            more.emplace_back(item.substr(0, eq), ml::LidiffModel::load(item.substr(eq + 1)));
        }
    }
    for (auto* m : {&teacher, &student}) {
        if (*m && args.has("device")) (*m)->setDevice(*args.value("device"));
    }
    for (auto& [name, m] : more) {
        if (args.has("device")) m->setDevice(*args.value("device"));
    }
    const ml::ModelScale scale = teacher         ? teacher->config().scale
                                 : student       ? student->config().scale
                                 : !more.empty() ? more.front().second->config().scale
                                                 : ml::ModelScale::full();
    for (const auto& [name, m] : more) {
        if (const auto d = m->config().scale.differencesFrom(scale); !d.empty()) {
            ctx.err << "eval-models: note: " << name << " is of another scale (" << d << ")\n";
        }
    }
    if (teacher && student) {
        if (const auto d = student->config().scale.differencesFrom(scale); !d.empty()) {
            ctx.err << "eval-models: note: teacher and student scales differ (" << d << ")\n";
        }
    }
    const fs::path cacheDir =
        args.value("map-cache", (fs::temp_directory_path() / "lidistill-eval-maps").string());
    fs::create_directories(cacheDir);

    TerminalProgress bar(ctx.err, "eval-models", ctx.errIsTerminal);
    const auto frames = readFrames(seqDirs, args, "frames", cacheDir, scale, &bar);
    double sigma = args.number("baseline-sigma", 0.1);
    if (auto from = args.value("sigma-from")) {
        ctx.out << "choosing the baseline's jitter on " << *from << ":\n";
        const auto tuning = readFrames({*from}, args, "sigma-frames", cacheDir, scale, &bar);
        sigma = chooseSigma(tuning, scale, ctx.out);
    }
    if (!(sigma >= 0) || !std::isfinite(sigma)) throw UsageError("--baseline-sigma must be >= 0");

    std::vector<Row> rows;
    rows.emplace_back("input scan");
    std::ostringstream bname;
    bname << "baseline: partial x" << scale.tile << " + jitter " << sigma << " m";
    rows.emplace_back(bname.str());
    struct Run {
        const ml::LidiffModel* model;
        int steps;
        std::size_t diffusedRow, refinedRow;  // refinedRow == 0: none
    };
    std::vector<Run> runs;
    auto addRuns = [&](const std::optional<ml::LidiffModel>& m, const std::string& who,
                       const std::vector<int>& steps) {
        if (!m) return;
        for (int s : steps) {
            Run r{&*m, s, rows.size(), 0};
            rows.emplace_back(who + ", " + std::to_string(s) + " steps");
            if (m->config().hasRefiner && !args.flag("no-refine")) {
                r.refinedRow = rows.size();
                rows.emplace_back(who + ", " + std::to_string(s) + " steps, refined");
            }
            runs.push_back(r);
        }
    };
    addRuns(teacher, "teacher", teacherSteps);
    addRuns(student, "student", studentSteps);
    for (const auto& [name, m] : more) addRuns(m, name, studentSteps);

    const double work = double(frames.size() * (1 + runs.size()));
    double done = 0;
    auto score = [&](Row& row, const PointCloud& pred, const PointCloud& truth, double secs) {
        row.acc.add(metrics::evaluateScan(pred, truth));
        row.seconds += secs / double(frames.size());
        row.points += double(pred.size()) / double(frames.size());
    };
    for (std::size_t f = 0; f < frames.size(); ++f) {
        const auto& fr = frames[f];
        checkpoint(&bar, done++ / work, "baselines");
        score(rows[0], withinRange(fr.scan, scale.minRange, scale.maxRange), fr.truth, 0);
        const auto t0 = std::chrono::steady_clock::now();
        const auto b = jitterBaseline(fr.scan, scale, sigma, seed + f);
        score(rows[1], b, fr.truth,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        for (const auto& r : runs) {
            checkpoint(&bar, done++ / work, "completing");
            auto o = ml::completionOptionsFor(r.model->config());
            o.steps = r.steps;
            o.refine = r.refinedRow != 0;
            o.seed = seed + f;
            ml::Completion c;
            try {
                c = ml::completeScan(*r.model, fr.scan, o);
            } catch (const ModelError& e) {
                throw ModelError(rows[r.diffusedRow].name + ", frame " + fr.name + ": " + e.what());
            }
            score(rows[r.diffusedRow], c.diffused, fr.truth, c.diffusionSeconds);
            if (r.refinedRow != 0 && !c.refined.empty()) {
                score(rows[r.refinedRow], c.refined, fr.truth,
                      c.diffusionSeconds + c.refineSeconds);
            }
        }
    }
    bar.finish();

    Json out{{"frames", Json::array()},
             {"baseline_sigma", sigma},
             {"scale", scale.name},
             {"rows", Json::array()}};
    for (const auto& fr : frames) out["frames"].push_back(fr.name);
    for (auto& row : rows) {
        if (row.acc.scans() == 0) continue;
        const auto m = row.acc.result();
        out["rows"].push_back({{"name", row.name},
                               {"cd", m.cdMean},
                               {"jsd_bev", m.jsdBev},
                               {"iou_0.5", m.iouCurrent.at(0)},
                               {"iou_0.2", m.iouCurrent.at(1)},
                               {"iou_0.1", m.iouCurrent.at(2)},
                               {"points", row.points},
                               {"seconds", row.seconds}});
    }
    if (auto file = args.value("out")) {
        writeStreamAtomically(*file, [&](std::ostream& os) { os << out.dump(2) << '\n'; });
    }
    if (args.flag("json")) {
        ctx.out << out.dump(2) << '\n';
        return kOk;
    }
    ctx.out << "held-out frames: " << frames.size() << " (";
    for (std::size_t i = 0; i < frames.size(); ++i) ctx.out << (i ? ", " : "") << frames[i].name;
    ctx.out << "), " << scale.name << " scale\n\n"
            << "| row | CD [m] | BEV-JSD | IoU 0.5 [%] | IoU 0.2 [%] | IoU 0.1 [%] | points | "
               "s/scan |\n"
            << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& r : out["rows"]) {
        ctx.out << "| " << r["name"].get<std::string>() << std::fixed << std::setprecision(3)
                << " | " << r["cd"].get<double>() << " | " << r["jsd_bev"].get<double>()
                << std::setprecision(1) << " | " << 100 * r["iou_0.5"].get<double>() << " | "
                << 100 * r["iou_0.2"].get<double>() << " | " << 100 * r["iou_0.1"].get<double>()
                << " | " << std::setprecision(0) << r["points"].get<double>() << " | "
                << std::setprecision(2) << r["seconds"].get<double>() << " |\n";
    }
    ctx.out << std::defaultfloat;
    return kOk;
}

}  // namespace

Command evalModelsCommand() {
    Command c;
    c.name = "eval-models";
    c.summary = "Teacher and student vs the input scan and a non-learned baseline, held out";
    c.synopsis = "SEQUENCE_DIR...";
    c.description =
        "Completes every frame (--frames) of the held-out sequences with the teacher\n"
        "(--teacher-steps) and the student (--student-steps; more students with --students\n"
        "NAME=MODEL,..., e.g. a ScoreLiDAR and a DDIL student), each diffused and refined when "
        "the\n"
        "model has a refiner, and scores them against the frame's ground truth (a crop of the\n"
        "whole sequence's map, reference 7.1) beside two rows that learn nothing: the input scan\n"
        "and the model-scale partial scan tiled with Gaussian jitter (--baseline-sigma, or the\n"
        "best of a grid on training frames with --sigma-from SEQ). Columns: Chamfer distance,\n"
        "BEV-JSD, voxel IoU at 0.5/0.2/0.1 m (current definition), points and seconds a scan\n"
        "(diffusion, plus refinement in refined rows). Prints a Markdown table, or --json.\n"
        "Only frames no model trained on mean anything here.";
    c.options = {{"teacher", "MODEL", "teacher model file", false, ""},
                 {"student", "MODEL", "student model file", false, ""},
                 {"students", "NAME=MODEL,...", "more students, rows named NAME", false, ""},
                 {"teacher-steps", "N,N", "teacher sampler steps", false, "50,8"},
                 {"student-steps", "N,N", "student sampler steps", false, "1,2,4,8"},
                 {"frames", "A:B", "frames of every sequence", false, "all"},
                 {"baseline-sigma", "M", "jitter of the baseline, metres", false, "0.1"},
                 {"sigma-from", "SEQ", "choose the jitter on this (training) sequence", false, ""},
                 {"sigma-frames", "A:B", "frames of --sigma-from", false, "all"},
                 {"no-refine", "", "skip the refined rows", true, ""},
                 {"seed", "N", "noise seed (frame i uses seed + i)", false, "0"},
                 {"map-cache", "DIR", "where the sequences' maps are cached", false,
                  "TMP/lidistill-eval-maps"},
                 {"json", "", "print JSON instead of the table", true, ""},
                 {"out", "FILE", "also write the JSON to FILE", false, ""},
                 {"device", "DEV", "cpu, cuda or cuda:N", false, "cpu"}};
    c.minPositional = 1;
    c.maxPositional = 100;
    c.run = runEvalModels;
    return c;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
