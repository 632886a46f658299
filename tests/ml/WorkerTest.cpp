// SPDX-License-Identifier: MIT
// `lidistill worker`: jobs in, events out, models kept loaded, cancellation without dying, and
// result clouds that are the ones `lidistill complete` writes.
#include "core/base/Base64.h"
#include "core/base/Events.h"
#include "core/base/XyzCodec.h"
#include "core/cli/Worker.h"
#include "core/io/CloudFile.h"
#include "core/io/ScanIo.h"
#include "core/ml/Model.h"
#include "tests/support/RunCli.h"
#include "tests/support/TestData.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::json;

std::vector<events::Event> runJobs(const std::vector<Json>& requests, const fs::path& cache) {
    std::stringstream in, out, err;
    for (const auto& r : requests) in << (r.is_string() ? r.get<std::string>() : r.dump()) << '\n';
    EXPECT_EQ(runWorker(in, out, err, cache), 0);
    std::vector<events::Event> ev;
    for (std::string line; std::getline(out, line);) {
        auto e = events::parse(line);
        EXPECT_TRUE(e) << line;
        if (e) ev.push_back(*e);
    }
    return ev;
}

// The events of one job, in order.
std::vector<events::Event> ofJob(const std::vector<events::Event>& ev, const std::string& job) {
    std::vector<events::Event> out;
    for (const auto& e : ev) {
        if (e.job == job) out.push_back(e);
    }
    return out;
}

const events::Event* find(const std::vector<events::Event>& ev, const std::string& type) {
    for (const auto& e : ev) {
        if (e.type == type) return &e;
    }
    return nullptr;
}

struct WorkerJobs : ::testing::Test {
    fs::path dir = lidistill::test::scratchDir();
    std::string model = (dir / "lite.safetensors").string();
    fs::path scanFile = lidistill::test::sourceDir() / "datasets" / "semantickitti-mini" /
                        "sequences" / "00" / "velodyne" / "000000.bin";
    std::string scan;
    const std::vector<std::string> tiny{"--steps", "2", "--points", "150", "--tile", "2",
                                        "--seed", "9"};
    const std::vector<std::string> scaled{"--steps", "2", "--points", "150", "--tile", "2",
                                          "--seed", "9", "--noise-scale", "1.1"};
    void SetUp() override {
        ASSERT_EQ(lidistill::test::runCli({"model", "init", model, "--width", "0.25", "--refiner"})
                      .code,
                  0);
        scan = encodeXyz(io::readCloud(scanFile));
    }
};

TEST_F(WorkerJobs, CompletesLikeTheCommandLineWithOneModelLoad) {
    const auto ev = runJobs(
        {Json{{"op", "load_model"}, {"job", "l"}, {"model", "m"}, {"path", model}},
         Json{{"op", "complete"}, {"job", "a"}, {"model", "m"}, {"scan", scan}, {"arguments", tiny}},
         Json{{"op", "complete"}, {"job", "b"}, {"model", "m"}, {"scan", scan}, {"arguments", tiny}},
         Json{{"op", "ping"}, {"job", "p"}},
         Json{{"op", "describe"}, {"job", "d"}, {"model", "m"}},
         Json{{"op", "complete"}, {"job", "s"}, {"model", "m"}, {"scan", scan},
              {"arguments", scaled}}},
        dir / "cache");
    // What a client needs before it completes: the file's sampling and scale (model init's
    // defaults: LiDiff's), and, in each result, what the job used.
    const auto describeEvents = ofJob(ev, "d");  // find() points into it: kept alive
    const auto* described = find(describeEvents, "result");
    ASSERT_TRUE(described);
    EXPECT_EQ(described->number("steps"), 50.0);
    EXPECT_EQ(described->number("guidance"), 6.0);
    EXPECT_EQ(described->number("max_range"), ml::ModelScale::full().maxRange);
    EXPECT_EQ(described->number("points"), double(ml::ModelScale::full().partialPoints));
    EXPECT_EQ(described->number("refiner"), 1.0);
    EXPECT_TRUE(described->text("scale").has_value());
    const auto scaledEvents = ofJob(ev, "s");
    const auto* scaledResult = find(scaledEvents, "result");
    ASSERT_TRUE(scaledResult);
    EXPECT_EQ(scaledResult->number("noise_scale"), 1.1);
    EXPECT_EQ(scaledResult->number("seed"), 9.0);
    int loads = 0;
    for (const auto& e : ev) loads += e.type == "started" && e.command == "load_model";
    EXPECT_EQ(loads, 1);
    const auto a = ofJob(ev, "a");
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a.front().type, "started");
    EXPECT_EQ(a.back().type, "ended");
    EXPECT_EQ(a.back().status, "ok");
    const auto* result = find(a, "result");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->number("partial_points"), 150.0);
    EXPECT_NE(find(a, "progress"), nullptr);

    // The same job through `lidistill complete`: the same refined cloud, bit for bit.
    std::vector<std::string> words{"complete", model, scanFile.string(), (dir / "cli.bin").string()};
    words.insert(words.end(), tiny.begin(), tiny.end());
    ASSERT_EQ(lidistill::test::runCli(words).code, 0);
    const PointCloud cli = io::readKittiBin(dir / "cli.bin");
    const auto bytes = base64Decode(*result->text("refined"));
    ASSERT_TRUE(bytes);
    ASSERT_EQ(bytes->size(), cli.size() * 12);
    for (std::size_t i = 0; i < cli.size(); ++i) {
        ASSERT_EQ(std::memcmp(bytes->data() + 12 * i, cli.xyz[i].data(), 12), 0) << i;
    }
    // Same seed, same job: the second completion equals the first.
    EXPECT_EQ(find(ofJob(ev, "b"), "result")->text("refined"), result->text("refined"));
    EXPECT_EQ(find(ofJob(ev, "p"), "result")->number("models"), 1.0);
    // The same noise at scale 1.1 (a pair's candidate B): another cloud.
    EXPECT_NE(scaledResult->text("diffused"), result->text("diffused"));
}

TEST_F(WorkerJobs, CancelEndsTheJobNotTheWorker) {
    auto longJob = tiny;
    longJob[1] = "200";  // --steps 200: still running when the cancel is read
    const auto ev = runJobs(
        {Json{{"op", "load_model"}, {"job", "l"}, {"model", "m"}, {"path", model}},
         Json{{"op", "complete"}, {"job", "long"}, {"model", "m"}, {"scan", scan},
              {"arguments", longJob}},
         Json{{"op", "cancel"}, {"job", "long"}},
         Json{{"op", "complete"}, {"job", "next"}, {"model", "m"}, {"scan", scan},
              {"arguments", tiny}}},
        dir / "cache");
    const auto cancelled = ofJob(ev, "long");
    ASSERT_FALSE(cancelled.empty());
    EXPECT_EQ(cancelled.back().status, "cancelled");
    EXPECT_EQ(find(cancelled, "result"), nullptr);
    EXPECT_EQ(find(cancelled, "error")->code, "cancelled");
    EXPECT_EQ(ofJob(ev, "next").back().status, "ok");
}

TEST_F(WorkerJobs, UploadedModelsAndBadRequests) {
    std::ifstream f(model, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    const auto ev = runJobs(
        {Json{{"op", "load_model"}, {"job", "u"}, {"model", "up"}, {"data", base64Encode(bytes)}},
         Json{{"op", "complete"}, {"job", "c"}, {"model", "up"}, {"scan", scan}, {"arguments", tiny}},
         Json{{"op", "complete"}, {"job", "missing"}, {"model", "nope"}, {"scan", scan}},
         Json{{"op", "complete"}, {"job", "odd"}, {"model", "up"}, {"scan", "AAAA"}},
         Json{{"op", "complete"}, {"job", "opt"}, {"model", "up"}, {"scan", scan},
              {"arguments", {"--steps", "0"}}},
         Json{{"op", "load_model"}, {"job", "broken"}, {"model", "x"}, {"data", "bm90IGEgbW9kZWw="}},
         Json{{"op", "frobnicate"}, {"job", "f"}},
         Json("this is not json")},
        dir / "cache");
    EXPECT_EQ(ofJob(ev, "c").back().status, "ok");
    EXPECT_EQ(find(ofJob(ev, "missing"), "error")->code, "usage");
    EXPECT_EQ(find(ofJob(ev, "odd"), "error")->code, "invalid_argument");  // 3 bytes, not 12
    EXPECT_EQ(find(ofJob(ev, "opt"), "error")->code, "usage");
    EXPECT_EQ(find(ofJob(ev, "broken"), "error")->code, "io");
    EXPECT_EQ(find(ofJob(ev, "f"), "error")->code, "usage");
    const auto unnamed = ofJob(ev, "");
    ASSERT_NE(find(unnamed, "error"), nullptr);
    EXPECT_NE(find(unnamed, "error")->message.find("not a request"), std::string::npos);
}

// Fields of the wrong type (a number as a job id, an object as a path, numbers as arguments)
// are bad requests answered with a usage error; the worker goes on. A numeric job id in a
// cancel used to end the worker (an exception in its reading thread).
TEST_F(WorkerJobs, FieldsOfTheWrongTypeAreBadRequestsNotCrashes) {
    const auto ev = runJobs(
        {Json::parse(R"({"op":"cancel","job":5})"),
         Json::parse(R"({"op":"load_model","job":"p","model":"m","path":{"a":1}})"),
         Json::parse(R"({"op":"complete","job":"a","model":"m","arguments":[1,2]})"),
         Json::parse(R"({"op":7,"job":"o"})"),
         Json{{"op", "ping"}, {"job", "after"}}},
        dir / "cache");
    for (const char* job : {"p", "a", "o"}) {
        const auto events = ofJob(ev, job);
        const auto* e = find(events, "error");
        ASSERT_NE(e, nullptr) << job;
        EXPECT_EQ(e->code, "usage") << job;
        EXPECT_NE(e->message.find("not a request"), std::string::npos) << e->message;
    }
    EXPECT_NE(find(ofJob(ev, ""), "error"), nullptr);  // the cancel with a numeric job
    EXPECT_EQ(ofJob(ev, "after").back().status, "ok");  // the worker went on
}

TEST(Base64, RoundTripsAndRefusesWhatIsNotBase64) {
    EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64Encode("foob"), "Zm9vYg==");  // RFC 4648 test vectors
    EXPECT_EQ(base64Encode(""), "");
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t n = 0; n < all.size(); n += 37) {
        EXPECT_EQ(base64Decode(base64Encode(all.substr(0, n))), all.substr(0, n)) << n;
    }
    EXPECT_FALSE(base64Decode("Zm9"));
    EXPECT_FALSE(base64Decode("Zm9v!mFy"));
    EXPECT_FALSE(base64Decode("Zg==Zm9v"));
    EXPECT_FALSE(base64Decode("Z==="));
}

}  // namespace
}  // namespace lidistill::cli
