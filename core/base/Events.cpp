// SPDX-License-Identifier: MIT
#include "core/base/Events.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>
#include <unistd.h>

namespace lidistill::events {
namespace {
using Json = nlohmann::ordered_json;
std::atomic<Stream*> g_current{nullptr};

// Invalid UTF-8 (a file name from another system) must not throw mid-job: replace it.
std::string dump(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}
}  // namespace

std::string_view codeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::Usage:
            return "usage";
        case ErrorCode::Io:
            return "io";
        case ErrorCode::InvalidArgument:
            return "invalid_argument";
        case ErrorCode::Model:
            return "model";
        case ErrorCode::NoDevice:
            return "no_device";
        case ErrorCode::Cancelled:
            return "cancelled";
        case ErrorCode::Internal:
            return "internal";
    }
    return "internal";
}

Stream::Stream(std::ostream& out) : m_out(out) {}

// {"event": kind, "job": id when set, ...fields}: the kind first, then the job, as readers see them.
void Stream::emit(const char* kind, const Json& fields) {
    Json j{{"event", kind}};
    if (!m_job.empty()) j["job"] = m_job;
    for (const auto& [k, v] : fields.items()) j[k] = v;
    m_out << dump(j) << '\n' << std::flush;
}

void Stream::setJob(std::string job) {
    std::lock_guard lock(m_mutex);
    m_job = std::move(job);
    m_lastPercent = -1;
    m_lastStage.clear();
}

void Stream::started(std::string_view command, const std::vector<std::string>& arguments) {
    const Json j{{"version", kVersion},
                 {"command", command},
                 {"arguments", arguments},
                 {"pid", static_cast<long long>(::getpid())}};
    std::lock_guard lock(m_mutex);
    emit("started", j);
}

void Stream::progress(double fraction, std::string_view stage) {
    fraction = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
    const int percent = static_cast<int>(fraction * 100);
    std::lock_guard lock(m_mutex);
    if (percent == m_lastPercent && stage == m_lastStage) return;
    m_lastPercent = percent;
    m_lastStage = std::string(stage);
    emit("progress", Json{{"fraction", fraction}, {"stage", stage}});
}

void Stream::metrics(std::string_view recordJson) {
    Json record;
    try {
        record = Json::parse(recordJson);
    } catch (const nlohmann::json::exception&) {
        return;  // not a record: nothing a reader could use
    }
    std::lock_guard lock(m_mutex);
    emit("metrics", Json{{"record", record}});
}

void Stream::result(const std::vector<std::string>& outputs,
                    const std::vector<std::pair<std::string, double>>& numbers,
                    const std::vector<std::pair<std::string, std::string>>& strings) {
    Json j{{"outputs", outputs}};
    for (const auto& [k, v] : numbers) {
        if (std::isfinite(v)) j[k] = v;
    }
    for (const auto& [k, v] : strings) j[k] = v;
    std::lock_guard lock(m_mutex);
    emit("result", j);
}

void Stream::error(ErrorCode code, std::string_view message, std::string_view file) {
    Json j{{"code", codeName(code)}, {"message", message}};
    if (!file.empty()) j["file"] = file;
    std::lock_guard lock(m_mutex);
    emit("error", j);
}

void Stream::ended(int exitCode, std::string_view status) {
    std::lock_guard lock(m_mutex);
    emit("ended", Json{{"exit", exitCode}, {"status", status}});
}

Stream* current() {
    return g_current.load();
}

CurrentGuard::CurrentGuard(Stream* stream) : m_previous(g_current.exchange(stream)) {}

CurrentGuard::~CurrentGuard() {
    g_current.store(m_previous);
}

std::optional<double> Event::number(std::string_view name) const {
    for (const auto& [k, v] : numbers) {
        if (k == name) return v;
    }
    return std::nullopt;
}

std::optional<std::string> Event::text(std::string_view name) const {
    for (const auto& [k, v] : strings) {
        if (k == name) return v;
    }
    return std::nullopt;
}

std::optional<Event> parse(std::string_view text) {
    Json j;
    try {
        j = Json::parse(text);
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
    // An empty kind is no event either (found by fuzzing: readers dispatch on the kind).
    if (!j.is_object() || !j.contains("event") || !j["event"].is_string() ||
        j["event"].get_ref<const std::string&>().empty()) {
        return std::nullopt;
    }
    Event e;
    e.type = j["event"].get<std::string>();
    auto str = [&](const char* k) {
        return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
    };
    e.command = str("command");
    e.job = str("job");
    e.stage = str("stage");
    e.code = str("code");
    e.message = str("message");
    e.file = str("file");
    e.status = str("status");
    if (j.contains("fraction") && j["fraction"].is_number()) e.fraction = j["fraction"].get<double>();
    if (j.contains("exit") && j["exit"].is_number_integer()) e.exitCode = j["exit"].get<int>();
    if (j.contains("record")) e.record = dump(j["record"]);
    if (j.contains("outputs") && j["outputs"].is_array()) {
        for (const auto& o : j["outputs"]) {
            if (o.is_string()) e.outputs.push_back(o.get<std::string>());
        }
    }
    if (e.type == "result") {
        for (const auto& [k, v] : j.items()) {
            if (k == "event" || k == "outputs" || k == "job") continue;
            if (v.is_number()) e.numbers.emplace_back(k, v.get<double>());
            if (v.is_boolean()) e.numbers.emplace_back(k, v.get<bool>() ? 1.0 : 0.0);
            if (v.is_string()) e.strings.emplace_back(k, v.get<std::string>());
        }
    }
    return e;
}

}  // namespace lidistill::events
