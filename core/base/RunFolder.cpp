// SPDX-License-Identifier: MIT
#include "core/base/RunFolder.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"

#include <cmath>
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
    Json j;
    try {
        std::ifstream in(file);
        j = Json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw IoError(file, std::string("unreadable checkpoint record: ") + e.what());
    }
    // The record is read before anything of the run is loaded, so it is checked by kind, not
    // trusted: a record from a damaged or foreign folder must not name a file outside the run
    // (its state is loaded as this run's) or a step that does not fit a long long.
    auto add = [&](const Json& r, const char* which) {
        auto bad = [&](const std::string& what) {
            return IoError(file, std::string("unreadable checkpoint record: ") + which + " " + what);
        };
        if (!r.is_object()) throw bad("is not a JSON object");
        const auto step = r.find("step");
        if (step == r.end() || !step->is_number_integer() || step->get<long long>() < 0) {
            throw bad("has no non-negative integer \"step\"");
        }
        std::string state = "state_latest.pt";
        if (const auto s = r.find("state"); s != r.end()) {
            if (!s->is_string()) throw bad("\"state\" is not a string");
            state = s->get<std::string>();
        }
        if (!Folder::isStateFile(state) || state.find('/') != std::string::npos) {
            throw bad("names \"" + state + "\", not a state file of this folder");
        }
        double seconds = 0;
        if (const auto s = r.find("seconds"); s != r.end()) {
            if (!s->is_number() || !(s->get<double>() >= 0) || !std::isfinite(s->get<double>())) {
                throw bad("\"seconds\" is not a finite non-negative number");
            }
            seconds = s->get<double>();
        }
        out.push_back({step->get<long long>(), dir / state, seconds});
    };
    add(j, "latest entry");
    if (j.is_object() && j.contains("previous")) add(j.at("previous"), "previous entry");
    return out;
}

std::string metricsUpTo(const fs::path& file, long long step) {
    std::ifstream in(file);
    if (!in) throw IoError(file, "cannot open the metrics log for reading");
    std::string kept;
    for (std::string line; std::getline(in, line);) {
        // A line cut by a crash ends what can be trusted; later lines are not looked at.
        Json j;
        try {
            j = Json::parse(line);
        } catch (const nlohmann::json::exception&) {
            break;
        }
        const auto s = j.is_object() ? j.find("step") : j.end();
        if (!j.is_object() || s == j.end() || !s->is_number_integer()) break;
        if (s->get<long long>() <= step) kept += line + '\n';
    }
    return kept;
}

void truncateMetrics(const fs::path& file, long long step) {
    if (!fs::exists(file)) return;
    const std::string kept = metricsUpTo(file, step);
    writeStreamAtomically(file, [&](std::ostream& os) { os << kept; });
}

long long lastCheckpointStep(const fs::path& dir) {
    const auto records = readCheckpoints(dir);
    return records.empty() ? -1 : records.front().step;
}

std::string runRecordDifferences(const fs::path& dir, const std::string& now) {
    using Json = nlohmann::ordered_json;
    const fs::path file = Folder{dir}.runJson();
    Json before;
    try {
        std::ifstream in(file);
        if (!in) throw IoError(file, "cannot open the run record");
        before = Json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw IoError(file, std::string("unreadable run record: ") + e.what());
    }
    if (!before.is_object()) throw IoError(file, "the run record is not a JSON object");
    const Json j = Json::parse(now);
    std::string diff;
    auto note = [&](const std::string& key, const std::string& was, const std::string& to) {
        diff += (diff.empty() ? "" : ", ") + key + " " + was + " -> " + to;
    };
    // dump() with replacement: a record written by hand may hold invalid UTF-8.
    auto text = [](const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); };
    for (const auto& [k, v] : j.items()) {
        if (k == "steps" || !before.contains(k)) continue;
        if (before.at(k) != v) note(k, text(before.at(k)), text(v));
    }
    for (const auto& [k, v] : before.items()) {
        if (!j.contains(k)) note(k, text(v), "(absent)");
    }
    return diff;
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
