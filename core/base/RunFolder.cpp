// SPDX-License-Identifier: MIT
#include "core/base/RunFolder.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace lidistill::run {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

bool Folder::holdsRun() const {
    std::error_code ec;
    return fs::exists(runJson(), ec) || fs::exists(checkpointRecord(), ec);
}

bool Folder::isStateFile(const std::string& f) {
    const bool pt = f.size() > 3 && f.compare(f.size() - 3, 3, ".pt") == 0;
    return pt && (f.rfind("state_step_", 0) == 0 || f == "state_latest.pt");
}

bool Folder::isRunFile(const std::string& f) {
    return f == "metrics.jsonl" || f == "checkpoint.json" || f == "run.json" || isStateFile(f) ||
           f.find("_latest.safetensors") != std::string::npos ||
           (f.find("_step_") != std::string::npos &&
            f.find(".safetensors") != std::string::npos) ||
           f.rfind("events.out.tfevents.", 0) == 0;
}

std::vector<CheckpointRecord> readCheckpoints(const fs::path& dir) {
    const fs::path file = Folder{dir}.checkpointRecord();
    std::vector<CheckpointRecord> out;
    if (!fs::exists(file)) return out;
    try {
        std::ifstream in(file);
        const auto j = Json::parse(in);
        auto add = [&](const Json& r) {
            out.push_back({r.at("step").get<long long>(),
                           dir / r.value("state", std::string("state_latest.pt")),
                           r.value("seconds", 0.0)});
        };
        add(j);
        if (j.contains("previous")) add(j.at("previous"));
    } catch (const nlohmann::json::exception& e) {
        throw IoError(file, std::string("unreadable checkpoint record: ") + e.what());
    }
    return out;
}

long long lastCheckpointStep(const fs::path& dir) {
    const auto records = readCheckpoints(dir);
    return records.empty() ? -1 : records.front().step;
}

void writeCheckpointRecord(const fs::path& dir, const std::string& modelFileName,
                           const std::vector<CheckpointRecord>& kept) {
    if (kept.empty()) throw InvalidArgument("checkpoint record: no checkpoint");
    auto entry = [](const CheckpointRecord& c) {
        return Json{{"step", c.step}, {"state", c.state.filename().string()},
                    {"seconds", c.seconds}};
    };
    Json record{{"step", kept[0].step}, {"model", modelFileName},
                {"state", kept[0].state.filename().string()}, {"seconds", kept[0].seconds}};
    if (kept.size() > 1) record["previous"] = entry(kept[1]);
    writeStreamAtomically(Folder{dir}.checkpointRecord(),
                          [&](std::ostream& os) { os << record.dump() << '\n'; }, Durable::yes);
}

}  // namespace lidistill::run
