// SPDX-License-Identifier: MIT
// The resume reader of a run folder: checkpoint.json (readCheckpoints), metrics.jsonl
// (metricsUpTo, what a resume keeps) and run.json (runRecordDifferences, the --resume option
// check). Input: one mode byte (bit 0: metrics.jsonl, the rest of the byte the step a resume
// would continue from; else bit 1: run.json; else checkpoint.json), then the file.
#include "core/base/RunFolder.h"
#include "tests/fuzz/FuzzTarget.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(run_folder) {
    if (size < 1) return;
    const std::uint8_t mode = data[0];
    const auto dir = fuzz::scratchDir() / "run";
    std::filesystem::create_directories(dir);
    const run::Folder folder{dir};
    if (mode & 1) {
        const long long step = mode >> 1;
        const auto file = fuzz::writeInput("run/metrics.jsonl", data + 1, size - 1);
        const std::string kept = run::metricsUpTo(file, step);
        // What is kept is whole lines, each an object with an integer step <= the resume step.
        std::istringstream lines(kept);
        for (std::string line; std::getline(lines, line);) {
            const auto j = nlohmann::json::parse(line);
            FUZZ_CHECK(j.at("step").is_number_integer() && j.at("step").get<long long>() <= step);
        }
        FUZZ_CHECK(kept.empty() || kept.back() == '\n');
        return;
    }
    if (mode & 2) {
        fuzz::writeInput("run/run.json", data + 1, size - 1);
        const std::string now =
            R"({"command":"train-dpo","lr":0.01,"steps":5,"ddil":{"ddil_steps":1,"replay":0}})";
        const std::string diff = run::runRecordDifferences(dir, now);
        FUZZ_CHECK(diff.find(" -> ") != std::string::npos || diff.empty());
        // A record is never different from itself.
        const auto self = nlohmann::ordered_json::parse(
            std::string(reinterpret_cast<const char*>(data + 1), size - 1));
        FUZZ_CHECK(run::runRecordDifferences(dir, self.dump()).empty());
        return;
    }
    fuzz::writeInput("run/checkpoint.json", data + 1, size - 1);
    const auto records = run::readCheckpoints(dir);
    FUZZ_CHECK(records.size() == 1 || records.size() == 2);
    for (const auto& r : records) {
        FUZZ_CHECK(r.step >= 0 && std::isfinite(r.seconds) && r.seconds >= 0);
        FUZZ_CHECK(r.state.parent_path() == dir);  // never a file outside the run
        FUZZ_CHECK(run::Folder::isStateFile(r.state.filename().string()));
    }
    FUZZ_CHECK(run::lastCheckpointStep(dir) == records.front().step);
}
