// SPDX-License-Identifier: MIT
// The job event stream: what the CLI writes is what a reader parses, line by line.
#include "core/base/Events.h"

#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lidistill::events {
namespace {

std::vector<Event> readAll(const std::string& text) {
    std::vector<Event> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        auto e = parse(line);
        EXPECT_TRUE(e.has_value()) << line;
        if (e) out.push_back(*e);
    }
    return out;
}

TEST(Events, EveryKindRoundTrips) {
    std::ostringstream os;
    Stream s(os);
    s.started("complete", {"m.safetensors", "scan.bin", "out.ply"});
    s.progress(0.456, "denoising");
    s.metrics(R"({"step":3,"loss":0.25})");
    s.result({"out.ply"}, {{"seconds", 1.5}, {"points", 8000}}, {{"device", "cpu"}});
    s.error(ErrorCode::Io, "scan.bin: truncated", "scan.bin");
    s.ended(1, "failed");
    const auto ev = readAll(os.str());
    ASSERT_EQ(ev.size(), 6u);
    EXPECT_EQ(ev[0].type, "started");
    EXPECT_EQ(ev[0].command, "complete");
    EXPECT_EQ(ev[1].type, "progress");
    EXPECT_DOUBLE_EQ(ev[1].fraction, 0.456);
    EXPECT_EQ(ev[1].stage, "denoising");
    EXPECT_EQ(ev[2].type, "metrics");
    EXPECT_EQ(ev[2].record, R"({"step":3,"loss":0.25})");
    EXPECT_EQ(ev[3].outputs, std::vector<std::string>{"out.ply"});
    EXPECT_EQ(ev[3].number("seconds"), 1.5);
    EXPECT_EQ(ev[3].number("points"), 8000.0);
    EXPECT_EQ(ev[3].text("device"), "cpu");
    EXPECT_FALSE(ev[3].number("device"));
    EXPECT_EQ(ev[4].code, "io");
    EXPECT_EQ(ev[4].file, "scan.bin");
    EXPECT_EQ(ev[5].type, "ended");
    EXPECT_EQ(ev[5].exitCode, 1);
    EXPECT_EQ(ev[5].status, "failed");
}

TEST(Events, ProgressIsOneEventAPercentOrStage) {
    std::ostringstream os;
    Stream s(os);
    for (int i = 0; i <= 1000; ++i) s.progress(i / 1000.0, "steps");
    s.progress(1.0, "writing");
    s.progress(7.0, "writing");  // clamped: the same 100 % again
    EXPECT_EQ(readAll(os.str()).size(), 102u);
}

TEST(Events, NonEventsAndCutLinesDoNotParse) {
    EXPECT_FALSE(parse(""));
    EXPECT_FALSE(parse("complete: 45% denoising"));
    EXPECT_FALSE(parse(R"({"event":"progress","fraction":0.)"));  // cut by a kill
    EXPECT_FALSE(parse(R"({"step":1})"));
    EXPECT_FALSE(parse(R"([1,2])"));
    EXPECT_FALSE(parse(R"({"event":"","refined":""})"));  // fuzz regression: no kind
    EXPECT_FALSE(parse(R"({"event":7})"));
    EXPECT_TRUE(parse(R"({"event":"x"})"));  // an unknown kind is still an event (newer writer)
    Stream* none = current();
    EXPECT_EQ(none, nullptr);
}

TEST(Events, ThreadsWriteWholeLines) {
    std::ostringstream os;
    Stream s(os);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&s, t] {
            for (int i = 0; i < 200; ++i) s.result({"f" + std::to_string(t)}, {{"i", double(i)}});
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(readAll(os.str()).size(), 800u);
}

TEST(Events, CurrentGuardNests) {
    std::ostringstream a, b;
    Stream sa(a), sb(b);
    {
        CurrentGuard ga(&sa);
        EXPECT_EQ(current(), &sa);
        {
            CurrentGuard gb(&sb);
            EXPECT_EQ(current(), &sb);
        }
        EXPECT_EQ(current(), &sa);
    }
    EXPECT_EQ(current(), nullptr);
}

}  // namespace
}  // namespace lidistill::events
