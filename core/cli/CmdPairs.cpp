// SPDX-License-Identifier: MIT
// `lidistill pairs make|list|stats|decide|export`: the preference-pair store from the command line.
#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/Events.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/Outputs.h"
#include "core/cli/TerminalProgress.h"
#include "core/pairs/PairMaker.h"
#include "core/pairs/PairStore.h"
#ifdef LIDISTILL_HAVE_ML
#include "core/cli/CompleteOptions.h"
#include "core/cli/TrainSetup.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/map/SequenceMap.h"
#include "core/metrics/ChamferDistance.h"
#include "core/metrics/HistogramJsd.h"
#include "core/metrics/VoxelIoU.h"
#include "core/ml/Completion.h"
#include "core/ml/Model.h"
#endif

#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <random>
#include <sstream>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;
using pairs::Verdict;

pairs::Filter filterOf(const Args& args) {
    int n = 0;
    pairs::Filter f = pairs::Filter::All;
    for (const auto& [name, value] :
         {std::pair{"pending", pairs::Filter::Pending}, std::pair{"decided", pairs::Filter::Decided},
          std::pair{"agreeing", pairs::Filter::Agreeing},
          std::pair{"overridden", pairs::Filter::Overridden}}) {
        if (args.flag(name)) {
            f = value;
            ++n;
        }
    }
    if (n > 1) throw UsageError("one of --pending, --decided, --agreeing, --overridden");
    return f;
}

int runList(const Args& args, Context& ctx, const fs::path& file) {
    const auto store = pairs::PairStore::open(file);
    const auto list = store.list(filterOf(args));
    if (args.flag("json")) {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (const auto& p : list) {
            all.push_back({{"id", p.id},
                           {"sequence", p.recipe.sequence},
                           {"frame", p.recipe.frame},
                           {"metric", p.metric},
                           {"auto", pairs::verdictName(p.automatic)},
                           {"margin", p.margin},
                           {"cd_a", p.a.cd},
                           {"cd_b", p.b.cd},
                           {"human", pairs::verdictName(p.human)},
                           {"who", p.who}});
        }
        ctx.out << all.dump(2) << '\n';
        return kOk;
    }
    ctx.out << "  id  frame     metric auto  margin    cd_a    cd_b  human  who\n";
    for (const auto& p : list) {
        ctx.out << std::setw(4) << p.id << "  " << std::left << std::setw(9) << p.recipe.frame
                << ' ' << std::setw(6) << p.metric << ' ' << std::setw(4)
                << pairs::verdictName(p.automatic) << std::right << std::fixed
                << std::setprecision(4) << std::setw(8) << p.margin << std::setw(8) << p.a.cd
                << std::setw(8) << p.b.cd << "  " << std::left << std::setw(5)
                << pairs::verdictName(p.human) << "  " << p.who << std::right
                << std::defaultfloat << '\n';
    }
    ctx.out << list.size() << " pair(s)\n";
    return kOk;
}

int runStats(Context& ctx, const fs::path& file) {
    const auto st = pairs::PairStore::open(file).stats();
    ctx.out << "pairs " << st.pairs << ", decided " << st.decided << ", pending " << st.pending
            << " (ties " << st.ties << ", skipped " << st.skipped << "; " << st.decisions
            << " decisions recorded)\n";
    ctx.out << "people and the metric: " << st.agreeing << " agree, " << st.overridden
            << " overridden";
    if (std::isfinite(st.agreement())) {
        ctx.out << " (agreement " << std::fixed << std::setprecision(1) << 100 * st.agreement()
                << " %)" << std::defaultfloat;
    }
    ctx.out << '\n';
    return kOk;
}

int runDecide(const Args& args, Context& ctx, const std::vector<std::string>& p) {
    if (p.size() != 4) throw UsageError("decide STORE ID a|b|tie|skip|none");
    long long id = 0;
    try {
        std::size_t used = 0;
        id = std::stoll(p[2], &used);
        if (used != p[2].size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
        throw UsageError("ID must be a pair number, got '" + p[2] + "'");
    }
    Verdict v;
    try {
        v = pairs::parseVerdict(p[3]);
    } catch (const InvalidArgument& e) {
        throw UsageError(e.what());
    }
    auto store = pairs::PairStore::open(p[1]);
    try {
        store.decide(id, v, args.value("who", "cli"));
    } catch (const InvalidArgument& e) {
        throw UsageError(e.what());
    }
    ctx.out << "pair " << id << ": " << pairs::verdictName(v) << '\n';
    return kOk;
}

int runExport(const Args& args, Context& ctx, const std::vector<std::string>& p) {
    if (p.size() != 3) throw UsageError("export STORE OUT.jsonl|OUT.csv");
    const fs::path out = p[2];
    checkOutputFile(out, {p[1]}, args.flag("force"));
    const auto store = pairs::PairStore::open(p[1]);
    if (out.extension() == ".jsonl") {
        store.exportJsonl(out);
    } else if (out.extension() == ".csv") {
        store.exportCsv(out);
    } else {
        throw UsageError("export writes .jsonl (preference records) or .csv");
    }
    ctx.out << "wrote " << out.string() << '\n';
    return kOk;
}

#ifdef LIDISTILL_HAVE_ML
int runMake(const Args& args, Context& ctx, const std::vector<std::string>& p) {
    if (p.size() != 4) throw UsageError("make MODEL SEQUENCE_DIR STORE");
    const std::string metric = args.value("metric", "cd");
    if (!pairs::isPairMetric(metric)) {
        throw UsageError("--metric is cd, jsd, iou or weighted, got '" + metric + "'");
    }
    const bool independent = args.flag("independent-seeds");
    const double lambda = independent ? 1.0 : args.number("lambda", 1.1);
    if (!(lambda > 0) || !std::isfinite(lambda)) throw UsageError("--lambda must be positive");
    if (!independent && lambda == 1.0) {
        throw UsageError("--lambda 1 makes the same sample twice: another lambda, or "
                         "--independent-seeds");
    }
    auto model = loadModelArg(args, p[1]);
    if (auto device = args.value("device")) model.setDevice(*device);
    auto options = completionOptionsFromArgs(args, model, ctx.err);
    const Sequence seq = Sequence::open(p[2]);
    if (!seq.hasPoses()) throw IoError(seq.dir(), "pairs need poses.txt (the ground truth map)");
    auto store = pairs::PairStore::open(p[3], true);
    fs::create_directories(store.cloudDir());
    removeStaleTemporaries(store.cloudDir());
    const auto frames = frameRange(args, seq.size());
    const std::string hash = pairs::modelFileHash(p[1]);
    TerminalProgress bar(ctx.err, "pairs", ctx.errIsTerminal);
    const auto map =
        map::loadOrBuildStaticMap(seq, pairs::pairMapFile(store, seq.dir(), hash), {}, nullptr);
    const auto gtOptions = groundTruthFor(model.config().scale);
    const std::string seqName = fs::weakly_canonical(seq.dir()).string();
    std::size_t made = 0, kept = 0;
    for (std::size_t k = 0; k < frames.size(); ++k) {
        const std::size_t i = frames[k];
        const auto r = pairs::pairRecipe(seqName, seq.frameName(i), i, p[1], hash, options.seed,
                                         lambda, independent, options.steps, options.guidance);
        if (store.find(r)) {  // a re-run adds only what is missing
            ++kept;
            continue;
        }
        SubProgress sub(&bar, double(k) / frames.size(), double(k + 1) / frames.size());
        const PointCloud scan = seq.loadScan(i);
        const PointCloud truth = map::groundTruthForFrame(seq, map, i, gtOptions);
        pairs::CandidateClouds cands[2];
        for (int side = 0; side < 2; ++side) {
            auto o = options;
            o.seed = side == 0 ? r.seedA : r.seedB;
            o.noiseScale = side == 0 ? 1.0 : r.lambda;
            SubProgress half(&sub, 0.5 * side, 0.5 * (side + 1));
            auto done = ml::completeScan(model, scan, o, &half);
            cands[side] = {std::move(done.partial), std::move(done.diffused),
                           std::move(done.refined)};
        }
        pairs::Pair pair;
        const long long id =
            pairs::storeCandidatePair(store, r, i, cands[0], cands[1], truth, metric, &pair);
        ++made;
        if (auto* ev = events::current()) {
            ev->metrics(nlohmann::json{{"pair", id},
                                       {"frame", r.frame},
                                       {"cd_a", pair.a.cd},
                                       {"cd_b", pair.b.cd},
                                       {"auto", pairs::verdictName(pair.automatic)}}
                            .dump());
        }
        ctx.out << r.frame << ": pair " << id << ", " << metric << " " << std::setprecision(4)
                << pairs::pairScore(pair.a, metric) << " vs " << pairs::pairScore(pair.b, metric)
                << " -> " << pairs::verdictName(pair.automatic) << '\n';
    }
    bar.finish();
    if (auto* ev = events::current()) {
        ev->result({p[3]}, {{"made", double(made)}, {"kept", double(kept)}});
    }
    ctx.out << "made " << made << " pair(s)" << (kept ? ", " + std::to_string(kept) + " already there" : "")
            << " in " << p[3] << '\n';
    return kOk;
}
#endif

int runPairs(const Args& args, Context& ctx) {
    const auto& p = args.positional();
    const std::string sub = p.at(0);
    if (sub == "make") {
#ifdef LIDISTILL_HAVE_ML
        return runMake(args, ctx, p);
#else
        throw UsageError("pairs make needs a lidistill built with the models (libtorch)");
#endif
    }
    if (sub == "list" || sub == "stats") {
        if (p.size() != 2) throw UsageError(sub + " STORE");
        return sub == "list" ? runList(args, ctx, p[1]) : runStats(ctx, p[1]);
    }
    if (sub == "decide") return runDecide(args, ctx, p);
    if (sub == "export") return runExport(args, ctx, p);
    throw UsageError("expected make, list, stats, decide or export, got '" + sub + "'");
}

}  // namespace

Command pairsCommand() {
    Command c;
    c.name = "pairs";
    c.summary = "Preference pairs: make them, list them, decide them, export them";
    c.synopsis = "make MODEL SEQ STORE | list STORE | stats STORE | decide STORE ID VERDICT | "
                 "export STORE OUT";
    c.description =
        "The pair store (a SQLite file, STORE.clouds/ beside it) that Distillation-DPO and the\n"
        "studio's curation share. make: completes each frame (--frames) twice, from the same\n"
        "noise scaled by 1 and --lambda (Distillation-DPO's pairs) or from two seeds\n"
        "(--independent-seeds), scores both against the frame's ground truth (CD, BEV-JSD,\n"
        "IoU 0.5 m) and stores the pair with the metric's verdict (--metric cd|jsd|iou|\n"
        "weighted = cd + jsd - iou); Ctrl+C keeps the pairs made, a re-run adds only what is\n"
        "missing. list (--pending, --decided, --agreeing, --overridden, --json), stats\n"
        "(agreement of people with the metric), decide ID a|b|tie|skip|none (none undoes),\n"
        "export to .jsonl (prompt / chosen / rejected records with metadata; a person's verdict\n"
        "wins over the metric's; ties and skips left out) or .csv.";
    auto opts = std::vector<OptionSpec>{
        {"lambda", "L", "make: noise scale of the second candidate", false, "1.1"},
        {"independent-seeds", "", "make: the second candidate from another seed", true, ""},
        {"metric", "NAME", "make: cd, jsd, iou or weighted", false, "cd"},
        {"frames", "A:B", "make: frames A..B-1", false, "all"},
        {"pending", "", "list: undecided pairs", true, ""},
        {"decided", "", "list: decided pairs", true, ""},
        {"agreeing", "", "list: people agreed with the metric", true, ""},
        {"overridden", "", "list: people overrode the metric", true, ""},
        {"json", "", "list: JSON", true, ""},
        {"who", "NAME", "decide: who decided", false, "cli"}};
#ifdef LIDISTILL_HAVE_ML
    for (auto& o : completeOptionSpecs()) {
        const std::string n = o.name;
        if (n == "steps" || n == "guidance" || n == "seed" || n == "points" || n == "tile" ||
            n == "device" || n == "no-refine" || n == "force" || n == "min-range" ||
            n == "max-range") {
            opts.push_back(o);
        }
    }
    opts.push_back(refinerOptionSpec());
#else
    opts.push_back({"force", "", "export: replace an existing file", true, ""});
#endif
    c.options = opts;
    c.minPositional = 2;
    c.maxPositional = 4;
    c.run = runPairs;
    return c;
}

}  // namespace lidistill::cli
