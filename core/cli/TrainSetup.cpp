// SPDX-License-Identifier: MIT
#ifdef LIDISTILL_HAVE_ML
#include "core/cli/TrainSetup.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/Events.h"
#include "core/base/Log.h"
#include "core/base/RunFolder.h"
#include "core/cli/Cli.h"
#include "core/cli/TerminalProgress.h"
#include "core/map/SequenceMap.h"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iomanip>
#include <netinet/in.h>
#include <ostream>
#include <set>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

// A run started over with --force: its own files go; maps stay (a cache of the sequences,
// valid for any run).
void clearRun(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code rm;
        if (it->is_regular_file() && run::Folder::isRunFile(it->path().filename().string())) {
            fs::remove(it->path(), rm);
        }
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
    return {{"steps", "N", "optimisation steps in all (a resumed run counts the earlier ones)",
             false, std::to_string(defaultSteps)},
            {"frames", "A:B", "training frames A..B-1 of every sequence", false, "all"},
            {"lr", "LR", "learning rate", false, defaultLr},
            {"lr-decay", "G", "learning rate x G after every epoch (a pass over all frames)", false,
             defaultDecay},
            {"points", "N", "partial scan points (default: the model's scale)", false, ""},
            {"full-points", "N", "ground-truth points (default: the model's scale)", false, ""},
            {"force-scale", "", "accept --points / --full-points that leave the model's scale",
             true, ""},
            {"augment", "", "LiDiff's training augmentation", true, ""},
            {"seed", "N", "seeds frame order, samples and noise", false, "0"},
            {"checkpoint-every", "N", "keep NAME_step_N every N steps", false, "200"},
            {"validate-every", "N", "validation on the held-out frames every N steps", false, "0"},
            {"validation", "SEQ", "held-out sequence for validation (never trained on)", false, ""},
            {"validation-frames", "A:B", "frames of --validation", false, "all"},
            {"print-every", "N", "a line on stdout every N steps (for logs)", false, "0"},
            {"resume", "", "continue the run in OUT_DIR from its last checkpoint", true, ""},
            {"force", "", "start over a run in OUT_DIR, or resume it with other options", true, ""},
            {"device", "DEV", "cpu, cuda or cuda:N", false, "cpu"},
            {"nproc", "N", "data-parallel: N processes on this machine (c10d Gloo)", false, "1"},
            {"rank", "R", "data-parallel across machines: this process's rank", false, "0"},
            {"world-size", "W", "data-parallel across machines: processes in all", false, "1"},
            {"master-addr", "HOST", "data-parallel: rank 0's address", false, "127.0.0.1"},
            {"master-port", "PORT", "data-parallel: rank 0's port", false,
             "29500 (--nproc: a free one)"}};
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
    s.nproc = static_cast<int>(atLeast(args, "nproc", 1, 1));
    s.distributed.rank = static_cast<int>(atLeast(args, "rank", 0, 0));
    s.distributed.worldSize = static_cast<int>(atLeast(args, "world-size", 1, 1));
    s.distributed.address = args.value("master-addr", "127.0.0.1");
    s.distributed.port = static_cast<int>(atLeast(args, "master-port", 0, 0));
    if (s.nproc > 1 && (args.has("rank") || args.has("world-size"))) {
        throw UsageError("--nproc starts the ranks itself: leave out --rank and --world-size");
    }
    if (s.distributed.rank >= s.distributed.worldSize) {
        throw UsageError("--rank must be below --world-size");
    }
    if (s.nproc > 64 || s.distributed.worldSize > 1024 || s.distributed.port > 65535) {
        throw UsageError(
            "--nproc at most 64, --world-size at most 1024, --master-port at most "
            "65535");
    }
    if ((s.nproc > 1 || s.distributed.worldSize > 1) && !ml::distributedAvailable()) {
        throw UsageError(
            "this lidistill was built without c10d Gloo (apt install libgloo-dev "
            "and rebuild): no --nproc / --world-size");
    }
    const bool follower = s.distributed.rank > 0;  // rank 0 owns the run folder
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
    if (!follower && !o.resume && run::Folder{s.outDir}.holdsRun()) {
        if (!s.force) {
            const long long at = ml::lastCheckpointStep(s.outDir);
            throw UsageError(
                s.outDir.string() + " holds a run" +
                (at >= 0 ? " (last checkpoint: step " + std::to_string(at) + ")" : std::string()) +
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
        s.maps.push_back(
            map::loadOrBuildStaticMap(seq, mapCache(args, s.outDir, i, count, seq), {}, &sub));
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

std::vector<OptionSpec> studentStateOptionSpecs() {
    return {{"ddil-steps", "K", "DDIL: train at the states of the student's K sampler steps", false,
             "1 (t = 999 only)"},
            {"ddil-start", "F,T,S",
             "DDIL: probabilities of forward, teacher and student states "
             "at the start",
             false, "0,0,1"},
            {"ddil-end", "F,T,S", "DDIL: the same at the end (linear in between)", false,
             "--ddil-start"},
            {"replay", "N", "DDIL: rollout states kept for reuse", false, "0"},
            {"replay-prob", "P", "DDIL: probability that a step reuses a kept state", false, "0"},
            {"reflect", "M", "DDIL: clamp states to the scan's box grown by M metres", false,
             "0 (off)"}};
}

ml::StudentStateOptions studentStateOptions(const Args& args) {
    ml::StudentStateOptions o;
    o.studentSteps = static_cast<int>(args.integer("ddil-steps", 1));
    auto triple = [&](const char* name, const std::array<double, 3>& fallback) {
        const auto v = args.value(name);
        if (!v) return fallback;
        std::array<double, 3> out{};
        std::stringstream ss(*v);
        std::string w;
        for (int i = 0; i < 3; ++i) {
            if (!std::getline(ss, w, ',')) {
                throw UsageError(std::string("--") + name + " expects three probabilities F,T,S");
            }
            char* end = nullptr;
            out[i] = std::strtod(w.c_str(), &end);
            if (end == w.c_str() || *end != '\0') {
                throw UsageError(std::string("--") + name + ": '" + w + "' is not a number");
            }
        }
        if (std::getline(ss, w, ',')) {
            throw UsageError(std::string("--") + name + " expects three probabilities F,T,S");
        }
        return out;
    };
    o.start = triple("ddil-start", o.start);
    o.end = triple("ddil-end", o.start);
    o.replaySize = static_cast<int>(args.integer("replay", 0));
    o.replayProb = args.number("replay-prob", 0.0);
    o.reflectMargin = args.number("reflect", 0.0);
    if (o.studentSteps == 1 && (args.has("ddil-start") || args.has("ddil-end"))) {
        throw UsageError(
            "--ddil-start / --ddil-end need --ddil-steps K > 1 (at K = 1 every state "
            "is x_init + eps at t = 999)");
    }
    try {
        o.validate();
    } catch (const InvalidArgument& e) {
        throw UsageError(e.what());
    }
    return o;
}

Json studentStateJson(const ml::StudentStateOptions& o) {
    return Json{{"ddil_steps", o.studentSteps},
                {"ddil_start", o.start},
                {"ddil_end", o.end},
                {"replay", o.replaySize},
                {"replay_prob", o.replayProb},
                {"reflect", o.reflectMargin}};
}

void holdOutValidationFrame(const Args& args, TrainSetup& setup, const ml::ModelScale& scale) {
    if (auto v = args.value("validation-frame")) {
        std::size_t f = 0;
        auto& src = setup.sources.front();
        if (!parseIndex(*v, f) || f >= src.sequence->size()) {
            throw UsageError("--validation-frame must be a frame index below " +
                             std::to_string(src.sequence->size()));
        }
        src.frames.erase(std::remove(src.frames.begin(), src.frames.end(), f), src.frames.end());
        if (src.frames.empty())
            throw UsageError("no training frame left beside the validation frame");
        setup.validation.push_back(
            {src.sequence->frameName(f), src.sequence->loadScan(f),
             map::groundTruthForFrame(*src.sequence, *src.map, f, groundTruthFor(scale))});
    }
    if (setup.loop.validateEvery > 0 && setup.validation.empty()) {
        throw UsageError("--validate-every needs --validation SEQ or --validation-frame I");
    }
}

void writeRunJson(const TrainSetup& s, const std::string& command, const Json& extra) {
    if (s.distributed.rank > 0) return;  // rank 0 owns the run folder
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
    j["world_size"] = std::max(s.nproc, s.distributed.worldSize);
    const fs::path file = run::Folder{s.outDir}.runJson();
    if (o.resume && fs::exists(file)) {
        // A resumed run must be the run it continues: only --steps (to go further) may change.
        const std::string diff = run::runRecordDifferences(s.outDir, j.dump());
        if (!diff.empty()) {
            if (!s.force) {
                throw UsageError("--resume with options that differ from " + file.string() + ": " +
                                 diff + "; give the run's options, or --force");
            }
            log::warn("resuming ", s.outDir.string(), " with other options (--force): ", diff);
        }
    }
    writeStreamAtomically(file, [&](std::ostream& os) { os << j.dump(2) << '\n'; });
}

namespace {

// A TCP port nobody listens on now (the kernel's choice), for --nproc's rendezvous.
int freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 29500;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    int port = 29500;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
        port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
}

// --nproc N: ranks 1..N-1 are this program again, with the same words plus their rank; their
// output goes to OUT_DIR/rank_R.log.
std::vector<pid_t> startRanks(const TrainSetup& s, const Context& ctx, int port) {
    std::vector<std::string> base;
    for (std::size_t i = 0; i < ctx.words.size(); ++i) {
        if (ctx.words[i] == "--nproc" || ctx.words[i] == "--master-port" ||
            ctx.words[i] == "--master-addr") {
            ++i;  // and its value
            continue;
        }
        base.push_back(ctx.words[i]);
    }
    std::vector<pid_t> pids;
    for (int r = 1; r < s.nproc; ++r) {
        auto words = base;
        const std::vector<std::string> own{
            "--rank",        std::to_string(r), "--world-size",  std::to_string(s.nproc),
            "--master-addr", "127.0.0.1",       "--master-port", std::to_string(port),
            "--quiet"};
        words.insert(words.end(), own.begin(), own.end());
        const fs::path log = run::Folder{s.outDir}.rankLog(r);
        const pid_t pid = ::fork();
        if (pid == 0) {
            const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            std::vector<char*> argv{const_cast<char*>("/proc/self/exe")};
            for (auto& w : words) argv.push_back(w.data());
            argv.push_back(nullptr);
            ::execv("/proc/self/exe", argv.data());
            ::_exit(127);
        }
        if (pid < 0) throw IoError(log, "cannot start rank " + std::to_string(r));
        pids.push_back(pid);
    }
    return pids;
}

// Waits for the ranks; @return a message naming the first that failed, or empty.
std::string waitRanks(const std::vector<pid_t>& pids, const fs::path& outDir) {
    std::string failed;
    for (std::size_t i = 0; i < pids.size(); ++i) {
        int status = 0;
        ::waitpid(pids[i], &status, 0);
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok && failed.empty()) {
            failed = "rank " + std::to_string(i + 1) + " failed (see " +
                     run::Folder{outDir}.rankLog(static_cast<int>(i + 1)).string() + ")";
        }
    }
    return failed;
}

}  // namespace

void checkRankExecutable(const fs::path& exe) {
    if (exe.filename().string().rfind("lidistill", 0) != 0) {
        throw UsageError("--nproc starts its ranks by running this program again, and " +
                         exe.string() +
                         " is not the lidistill command line; start the ranks with "
                         "--rank / --world-size instead");
    }
}

int runAndReport(ml::Trainer& trainer, TrainSetup& s, const std::string& task, Context& ctx) {
    if (s.loop.validateEvery > 0 && s.validation.empty()) {
        throw UsageError("--validate-every needs --validation SEQ (held-out frames)");
    }
    // Data-parallel: this process is rank 0 of --nproc, or the rank it was given.
    std::vector<pid_t> ranks;
    ml::DistributedOptions d = s.distributed;
    if (s.nproc > 1 || d.worldSize > 1) {
        if (!trainer.setProcessGroup(nullptr)) {
            throw UsageError(task + " cannot run data-parallel (--nproc / --world-size)");
        }
        if (s.nproc > 1) {
            std::error_code ec;
            checkRankExecutable(fs::read_symlink("/proc/self/exe", ec));
            d.rank = 0;
            d.worldSize = s.nproc;
            d.address = "127.0.0.1";
            if (d.port == 0) d.port = freePort();
            ranks = startRanks(s, ctx, d.port);
        } else if (d.port == 0) {
            d.port = 29500;
        }
        try {
            s.loop.group = ml::ProcessGroup::connect(d);
        } catch (...) {
            for (pid_t p : ranks) ::kill(p, SIGTERM);
            waitRanks(ranks, s.outDir);
            throw;
        }
    }
    TerminalProgress bar(ctx.err, task, ctx.errIsTerminal);
    auto* events = events::current();
    if (events) s.loop.onRecord = [events](const std::string& line) { events->metrics(line); };
    const fs::path latest = run::Folder{s.outDir}.latestModel(trainer.modelName());
    ml::LoopResult r;
    try {
        r = ml::runTrainingLoop(trainer, s.sources, s.validation, s.loop, s.outDir, &bar,
                                s.loop.printEvery > 0 ? &ctx.out : nullptr);
    } catch (const Cancelled&) {
        const std::string failed = waitRanks(ranks, s.outDir);
        ranks.clear();
        bar.finish();
        const long long at = std::max(0LL, ml::lastCheckpointStep(s.outDir));
        if (events) {
            events->result({latest.string()}, {{"step", double(at)}, {"stopped", 1.0}},
                           {{"model", latest.string()}, {"run", s.outDir.string()}});
        }
        if (s.distributed.rank == 0) {
            ctx.err << task << ": stopped at step " << at << "; " << latest.string()
                    << " and its state hold it (--resume continues)\n";
        }
        if (!failed.empty()) ctx.err << task << ": " << failed << '\n';
        throw;
    } catch (...) {
        for (pid_t p : ranks) ::kill(p, SIGTERM);
        waitRanks(ranks, s.outDir);
        throw;
    }
    if (const std::string failed = waitRanks(ranks, s.outDir); !failed.empty()) {
        throw IoError(s.outDir, failed);
    }
    if (s.distributed.rank > 0) return kOk;  // rank 0 reports the run
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
            << run::Folder{s.outDir}.metrics().string() << '\n';
    return kOk;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
