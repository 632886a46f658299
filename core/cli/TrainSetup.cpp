// SPDX-License-Identifier: MIT
#ifdef LIDISTILL_HAVE_ML
#include "core/cli/TrainSetup.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/Events.h"
#include "core/base/Log.h"
#include "core/cli/Cli.h"
#include "core/cli/TerminalProgress.h"
#include "core/map/SequenceMap.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <set>

namespace lidistill::cli {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

long long atLeast(const Args& args, const char* name, long long fallback, long long lo) {
    const long long v = args.integer(name, fallback);
    if (v < lo) throw UsageError(std::string("--") + name + " must be >= " + std::to_string(lo));
    return v;
}

// A map cache per training sequence, in the run folder (never in a dataset).
fs::path mapCache(const Args& args, const fs::path& outDir, std::size_t i, std::size_t count,
                  const Sequence& seq) {
    if (count == 1 && args.has("map")) return *args.value("map");
    std::ostringstream name;
    name << std::setw(2) << std::setfill('0') << i << '-' << seq.dir().filename().string()
         << ".ldmap";
    return outDir / "maps" / name.str();
}

// A run started over with --force: its log, checkpoints and event files go; maps stay (a cache
// of the sequences, valid for any run).
void clearRun(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string f = it->path().filename().string();
        const bool runFile = f == "metrics.jsonl" || f == "checkpoint.json" || f == "run.json" ||
                             (f.rfind("state_", 0) == 0 && it->path().extension() == ".pt") ||
                             f.find("_latest.safetensors") != std::string::npos ||
                             f.find("_step_") != std::string::npos ||
                             f.rfind("events.out.tfevents.", 0) == 0;
        std::error_code rm;
        if (runFile && it->is_regular_file()) fs::remove(it->path(), rm);
    }
}

std::string canonicalName(const fs::path& p) {
    std::error_code ec;
    const auto c = fs::weakly_canonical(p, ec);
    return (ec ? p : c).string();
}

}  // namespace

ml::ModelConfig newModelConfig(const Args& args, const std::string& defaultScale) {
    const std::string scale = args.value("scale", defaultScale);
    if (scale != "full" && scale != "lite") {
        throw UsageError("--scale must be full or lite, got '" + scale + "'");
    }
    ml::ModelConfig c = scale == "lite" ? ml::ModelConfig::lite() : ml::ModelConfig{};
    c.width = args.number("width", c.width);
    c.voxelSize = args.number("voxel-size", c.voxelSize);
    auto& s = c.scale;
    const auto named = s;
    auto count = [&](const char* name, std::size_t fallback) {
        return static_cast<std::size_t>(
            std::max(0LL, args.integer(name, static_cast<long long>(fallback))));
    };
    s.tile = static_cast<int>(args.integer("tile", s.tile));
    s.maxRange = args.number("max-range", s.maxRange);
    s.partialPoints = count("points", s.partialPoints);
    s.fullPoints = count("full-points", s.fullPoints);
    if (!s.differencesFrom(named).empty()) s.name = "custom";
    return c;
}

map::GroundTruthOptions groundTruthFor(const ml::ModelScale& scale) {
    map::GroundTruthOptions g;
    g.radius = scale.maxRange;
    g.viewpointMaxRange = scale.maxRange;
    return g;
}

std::vector<OptionSpec> commonTrainOptions(const char* defaultLr, const char* defaultDecay,
                                           long long defaultSteps) {
    return {
        {"steps", "N", "optimisation steps in all (a resumed run counts the earlier ones)", false,
         std::to_string(defaultSteps)},
        {"frames", "A:B", "training frames A..B-1 of every sequence", false, "all"},
        {"lr", "LR", "learning rate", false, defaultLr},
        {"lr-decay", "G", "learning rate x G after every epoch (a pass over all frames)", false,
         defaultDecay},
        {"points", "N", "partial scan points (default: the model's scale)", false, ""},
        {"full-points", "N", "ground-truth points (default: the model's scale)", false, ""},
        {"force-scale", "", "accept --points / --full-points that leave the model's scale", true,
         ""},
        {"augment", "", "LiDiff's training augmentation", true, ""},
        {"seed", "N", "seeds frame order, samples and noise", false, "0"},
        {"checkpoint-every", "N", "keep NAME_step_N every N steps", false, "200"},
        {"validate-every", "N", "validation on the held-out frames every N steps", false, "0"},
        {"validation", "SEQ", "held-out sequence for validation (never trained on)", false, ""},
        {"validation-frames", "A:B", "frames of --validation", false, "all"},
        {"print-every", "N", "a line on stdout every N steps (for logs)", false, "0"},
        {"resume", "", "continue the run in OUT_DIR from its last checkpoint", true, ""},
        {"force", "", "start over a run in OUT_DIR, or resume it with other options", true, ""},
        {"device", "DEV", "cpu, cuda or cuda:N", false, "cpu"}};
}

TrainSetup prepareTraining(const Args& args, std::size_t firstSeq, const ml::ModelScale& scale,
                           double defaultLr, double defaultDecay, long long defaultSteps,
                           ProgressSink* progress) {
    const auto& p = args.positional();
    TrainSetup s;
    s.outDir = p.back();
    auto& o = s.loop;
    o.steps = atLeast(args, "steps", defaultSteps, 1);
    o.checkpointEvery = atLeast(args, "checkpoint-every", 200, 1);
    o.validateEvery = atLeast(args, "validate-every", 0, 0);
    o.printEvery = atLeast(args, "print-every", 0, 0);
    o.seed = static_cast<std::uint64_t>(atLeast(args, "seed", 0, 0));
    o.learningRate = args.number("lr", defaultLr);
    if (!(o.learningRate > 0) || !std::isfinite(o.learningRate)) {
        throw UsageError("--lr must be positive");
    }
    o.lrDecay = args.number("lr-decay", defaultDecay);
    if (!(o.lrDecay > 0) || o.lrDecay > 1) throw UsageError("--lr-decay must be in (0, 1]");
    o.resume = args.flag("resume");
    s.force = args.flag("force");
    o.sample.partialPoints = static_cast<std::size_t>(
        atLeast(args, "points", static_cast<long long>(scale.partialPoints), 1));
    o.sample.fullPoints = static_cast<std::size_t>(
        atLeast(args, "full-points", static_cast<long long>(scale.fullPoints), 1));
    o.sample.minRange = scale.minRange;
    o.sample.maxRange = scale.maxRange;
    o.sample.augment = args.flag("augment");
    ml::ModelScale asked = scale;
    asked.partialPoints = o.sample.partialPoints;
    asked.fullPoints = o.sample.fullPoints;
    if (const auto diff = asked.differencesFrom(scale);
        !diff.empty() && !args.flag("force-scale")) {
        throw UsageError("the model is of the " + scale.name + " scale; these options train it " +
                         "on another scale's data (" + diff +
                         "): leave them out, or pass --force-scale");
    }
    if (fs::exists(s.outDir) && !fs::is_directory(s.outDir)) {
        throw IoError(s.outDir, "OUT_DIR must be a folder");
    }
    // Never start over a run by accident: its log and checkpoints would be lost.
    if (!o.resume && (fs::exists(s.outDir / "run.json") || fs::exists(s.outDir / "checkpoint.json"))) {
        if (!s.force) {
            const long long at = ml::lastCheckpointStep(s.outDir);
            throw UsageError(s.outDir.string() + " holds a run" +
                             (at >= 0 ? " (last checkpoint: step " + std::to_string(at) + ")"
                                      : std::string()) +
                             ": --resume continues it, --force starts it over (deleting its "
                             "log and checkpoints)");
        }
        clearRun(s.outDir);
    }

    const std::size_t count = p.size() - 1 - firstSeq;
    if (count == 0) throw UsageError("no training sequence given");
    std::set<std::pair<std::string, std::size_t>> trained;
    for (std::size_t i = 0; i < count; ++i) {
        s.sequences.push_back(Sequence::open(p[firstSeq + i]));
        const auto& seq = s.sequences.back();
        if (!seq.hasPoses()) throw IoError(seq.dir(), "training needs poses.txt (the map)");
        fs::create_directories(s.outDir / "maps");
        SubProgress sub(progress, 0.0, 0.0);
        s.maps.push_back(map::loadOrBuildStaticMap(seq, mapCache(args, s.outDir, i, count, seq), {},
                                                   &sub));
        ml::TrainingSource src{&seq, &s.maps.back(), frameRange(args, seq.size())};
        for (auto f : src.frames) trained.emplace(canonicalName(seq.dir()), f);
        s.sources.push_back(std::move(src));
    }
    if (auto v = args.value("validation")) {
        const Sequence seq = Sequence::open(*v);
        if (!seq.hasPoses()) throw IoError(seq.dir(), "validation needs poses.txt (the map)");
        const auto frames = frameRange(args, seq.size(), "validation-frames");
        for (auto f : frames) {
            if (trained.count({canonicalName(seq.dir()), f})) {
                throw UsageError("validation frame " + seq.frameName(f) + " of " +
                                 seq.dir().string() +
                                 " is also a training frame: validate on held-out frames");
            }
        }
        SubProgress sub(progress, 0.0, 0.0);
        const auto m =
            map::loadOrBuildStaticMap(seq, s.outDir / "maps" / "validation.ldmap", {}, &sub);
        for (auto f : frames) {
            s.validation.push_back({seq.frameName(f), seq.loadScan(f),
                                    map::groundTruthForFrame(seq, m, f, groundTruthFor(scale))});
        }
    }
    return s;
}

void writeRunJson(const TrainSetup& s, const std::string& command, const Json& extra) {
    Json seqs = Json::array();
    for (const auto& src : s.sources) {
        seqs.push_back({{"path", src.sequence->dir().string()},
                        {"frames", {src.frames.front(), src.frames.back() + 1}}});
    }
    Json j{{"command", command}};
    for (const auto& [k, v] : extra.items()) j[k] = v;
    const auto& o = s.loop;
    j["sequences"] = seqs;
    // The first sequence also as "sequence" / "frames": what one-sequence readers (the studio's
    // Open run folder) look for.
    j["sequence"] = s.sources.front().sequence->dir().string();
    j["frames"] = {s.sources.front().frames.front(), s.sources.front().frames.back() + 1};
    j["validation_frames"] = s.validation.size();
    j["steps"] = o.steps;
    j["lr"] = o.learningRate;
    j["lr_decay"] = o.lrDecay;
    j["points"] = o.sample.partialPoints;
    j["full_points"] = o.sample.fullPoints;
    j["augment"] = o.sample.augment;
    j["seed"] = o.seed;
    j["checkpoint_every"] = o.checkpointEvery;
    j["validate_every"] = o.validateEvery;
    const fs::path file = s.outDir / "run.json";
    if (o.resume && fs::exists(file)) {
        // A resumed run must be the run it continues: only --steps (to go further) may change.
        Json before;
        try {
            std::ifstream in(file);
            before = Json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw IoError(file, std::string("unreadable run record: ") + e.what());
        }
        std::string diff;
        auto note = [&](const std::string& key, const std::string& was, const std::string& now) {
            diff += (diff.empty() ? "" : ", ") + key + " " + was + " -> " + now;
        };
        for (const auto& [k, v] : j.items()) {
            if (k == "steps") continue;
            if (!before.contains(k)) {
                note(k, "(absent)", v.dump());
            } else if (before.at(k) != v) {
                note(k, before.at(k).dump(), v.dump());
            }
        }
        for (const auto& [k, v] : before.items()) {
            if (!j.contains(k)) note(k, v.dump(), "(absent)");
        }
        if (!diff.empty()) {
            if (!s.force) {
                throw UsageError("--resume with options that differ from " + file.string() +
                                 ": " + diff + "; give the run's options, or --force");
            }
            log::warn("resuming ", s.outDir.string(), " with other options (--force): ", diff);
        }
    }
    writeStreamAtomically(s.outDir / "run.json", [&](std::ostream& os) { os << j.dump(2) << '\n'; });
}

int runAndReport(ml::Trainer& trainer, TrainSetup& s, const std::string& task, Context& ctx) {
    if (s.loop.validateEvery > 0 && s.validation.empty()) {
        throw UsageError("--validate-every needs --validation SEQ (held-out frames)");
    }
    TerminalProgress bar(ctx.err, task, ctx.errIsTerminal);
    auto* events = events::current();
    if (events) s.loop.onRecord = [events](const std::string& line) { events->metrics(line); };
    const fs::path latest = s.outDir / (trainer.modelName() + "_latest.safetensors");
    ml::LoopResult r;
    try {
        r = ml::runTrainingLoop(trainer, s.sources, s.validation, s.loop, s.outDir, &bar,
                                s.loop.printEvery > 0 ? &ctx.out : nullptr);
    } catch (const Cancelled&) {
        bar.finish();
        const long long at = std::max(0LL, ml::lastCheckpointStep(s.outDir));
        if (events) {
            events->result({latest.string()}, {{"step", double(at)}, {"stopped", 1.0}},
                           {{"model", latest.string()}, {"run", s.outDir.string()}});
        }
        ctx.err << task << ": stopped at step " << at << "; " << latest.string()
                << " and its state hold it (--resume continues)\n";
        throw;
    }
    if (events) {
        events->result({latest.string()},
                       {{"step", double(r.lastStep)},
                        {"steps_run", double(r.lastStep - r.firstStep)},
                        {"seconds", r.seconds}},
                       {{"model", latest.string()}, {"run", s.outDir.string()}});
    }
    bar.finish();
    ctx.out << "trained " << (r.lastStep - r.firstStep) << " step(s) (" << r.lastStep
            << " in all) in " << std::fixed << std::setprecision(1) << r.seconds << " s on "
            << trainer.model().device() << "\n  wrote " << r.latestModel.string() << " and "
            << (s.outDir / "metrics.jsonl").string() << '\n';
    return kOk;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
