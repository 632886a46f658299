// SPDX-License-Identifier: MIT
// `lidistill pairs`: make pairs on the bundled sequence with a tiny model, re-run adds nothing,
// decide / list / stats / export from the command line.
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

    // Usage errors say what is wrong.
    EXPECT_EQ(make({"--lambda", "1"}).code, 2);
    EXPECT_EQ(make({"--metric", "vibes"}).code, 2);
    EXPECT_EQ(runCli({"pairs", "decide", store, "99", "a"}).code, 2);
    EXPECT_EQ(runCli({"pairs", "decide", store, "1", "left"}).code, 2);
    EXPECT_EQ(runCli({"pairs", "list", (dir / "nope.db").string()}).code, 1);
}

}  // namespace
}  // namespace lidistill::cli
