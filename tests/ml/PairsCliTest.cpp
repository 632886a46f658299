// SPDX-License-Identifier: MIT
// `lidistill pairs`: make pairs on the bundled sequence with a tiny model, re-run adds nothing,
// decide / list / stats / export from the command line, and train-dpo on the stored pairs.
#include "core/io/CloudFile.h"
#include "core/pairs/PairStore.h"
#include "tests/support/RunCli.h"
#include "tests/support/TestData.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;
using lidistill::test::runCli;

TEST(PairsCli, MakeDecideListStatsExport) {
    const auto dir = lidistill::test::scratchDir();
    const auto model = (dir / "m.safetensors").string();
    ASSERT_EQ(runCli({"model", "init", model, "--width", "0.25", "--seed", "2", "--refiner"}).code,
              0);
    const std::string seq =
        (lidistill::test::sourceDir() / "datasets" / "semantickitti-mini" / "sequences" / "00")
            .string();
    const std::string store = (dir / "pairs.db").string();
    const std::vector<std::string> tiny{"--steps", "1", "--points", "150", "--tile", "2"};
    auto make = [&](std::vector<std::string> extra) {
        std::vector<std::string> w{"pairs", "make", model, seq, store};
        w.insert(w.end(), tiny.begin(), tiny.end());
        w.insert(w.end(), extra.begin(), extra.end());
        return runCli(w);
    };
    auto r = make({"--frames", "0:2"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = make({"--frames", "0:3"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("made 1 pair(s), 2 already there"), std::string::npos) << r.out;

    {
        const auto s = pairs::PairStore::open(store);
        const auto all = s.list();
        ASSERT_EQ(all.size(), 3u);
        for (const auto& p : all) {
            // The metric's verdict follows the stored distances, and the clouds are there.
            EXPECT_EQ(p.automatic, p.a.cd < p.b.cd ? pairs::Verdict::A : pairs::Verdict::B);
            EXPECT_NEAR(p.margin, std::abs(p.a.cd - p.b.cd), 1e-12);
            const auto a = io::readCloud(s.cloudDir() / p.a.cloud);
            const auto b = io::readCloud(s.cloudDir() / p.b.cloud);
            EXPECT_GT(a.size(), 0u);
            EXPECT_NE(a.xyz, b.xyz);  // lambda 1.1: another sample from the same noise
            EXPECT_EQ(p.recipe.lambda, 1.1);
            EXPECT_EQ(p.recipe.seedA, p.recipe.seedB);
        }
    }
    // Decide one against the metric, one with it.
    const auto first = pairs::PairStore::open(store).get(1)->automatic;
    const std::string against = first == pairs::Verdict::A ? "b" : "a";
    ASSERT_EQ(runCli({"pairs", "decide", store, "1", against, "--who", "ann"}).code, 0);
    ASSERT_EQ(runCli({"pairs", "decide", store, "2",
                      pairs::verdictName(pairs::PairStore::open(store).get(2)->automatic)})
                  .code,
              0);
    r = runCli({"pairs", "stats", store});
    EXPECT_NE(r.out.find("1 agree, 1 overridden (agreement 50.0 %)"), std::string::npos) << r.out;
    r = runCli({"pairs", "list", store, "--overridden", "--json"});
    ASSERT_EQ(r.code, 0);
    const auto listed = nlohmann::json::parse(r.out);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["id"], 1);
    EXPECT_EQ(listed[0]["who"], "ann");

    const auto out = (dir / "prefs.jsonl").string();
    ASSERT_EQ(runCli({"pairs", "export", store, out}).code, 0);
    std::ifstream in(out);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    const auto rec = nlohmann::json::parse(line);
    EXPECT_EQ(rec["source"], "human");
    EXPECT_NE(rec["chosen"].get<std::string>().find(against == "a" ? "_a.bin" : "_b.bin"),
              std::string::npos);
    EXPECT_EQ(runCli({"pairs", "export", store, out}).code, 2);  // exists: --force

    // train-dpo on the stored pairs, with the person's verdict on pair 1 (tests/ml/
    // DistillationDpoTest checks that the step follows it); a teacher of a small scale.
    const auto teacher = (dir / "t.safetensors").string();
    ASSERT_EQ(runCli({"model", "init", teacher, "--width", "0.25", "--seed", "4", "--points",
                      "200", "--full-points", "2000", "--tile", "2"})
                  .code,
              0);
    auto train = [&](const std::string& out, std::vector<std::string> extra) {
        std::vector<std::string> w{"train-dpo", teacher, seq, (dir / out).string(), "--lr", "1e-2",
                                   "--map", (dir / "map.ldmap").string(), "--steps", "3"};
        w.insert(w.end(), extra.begin(), extra.end());
        return runCli(w);
    };
    r = train("run", {"--pairs", store});
    ASSERT_EQ(r.code, 0) << r.err;
    {
        std::ifstream log(dir / "run" / "metrics.jsonl");
        int steps = 0;
        for (std::string l; std::getline(log, l); ++steps) {
            const auto j = nlohmann::json::parse(l);
            EXPECT_EQ(j.at("from_store"), 1.0);
            EXPECT_EQ(j.at("pairs_usable"), 3.0);
            EXPECT_EQ(j.at("pairs_human"), 2.0);  // pair 1 against the metric, pair 2 with it
            EXPECT_EQ(j.at("pair_human"), j.at("pair").get<double>() <= 2 ? 1.0 : 0.0);
            EXPECT_GT(j.at("grad_g").get<double>(), 0.0);
        }
        EXPECT_EQ(steps, 3);
        std::ifstream runJson(dir / "run" / "run.json");
        const auto options = nlohmann::json::parse(runJson);
        EXPECT_EQ(options.at("pairs_mix"), 1.0);
        EXPECT_NE(options.at("pairs").get<std::string>().find("pairs.db"), std::string::npos);
    }
    EXPECT_EQ(train("bad1", {"--pairs", store, "--pairs-mix", "0"}).code, 2);
    EXPECT_EQ(train("bad2", {"--pairs-mix", "0.5"}).code, 2);
    r = train("bad3", {"--pairs", (dir / "nope.db").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("nope.db"), std::string::npos) << r.err;

    // Usage errors say what is wrong.
    EXPECT_EQ(make({"--lambda", "1"}).code, 2);
    EXPECT_EQ(make({"--metric", "vibes"}).code, 2);
    EXPECT_EQ(runCli({"pairs", "decide", store, "99", "a"}).code, 2);
    EXPECT_EQ(runCli({"pairs", "decide", store, "1", "left"}).code, 2);
    EXPECT_EQ(runCli({"pairs", "list", (dir / "nope.db").string()}).code, 1);
}

}  // namespace
}  // namespace lidistill::cli
