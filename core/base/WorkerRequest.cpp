// SPDX-License-Identifier: MIT
#include "core/base/WorkerRequest.h"

namespace lidistill::worker {

Request parseRequest(const std::string& line) {
    using Json = nlohmann::json;
    Request r;
    auto bad = [&](const std::string& why) {
        r.op = "request";
        r.error = "not a request: " + why;
        r.body = Json::object();
        return r;
    };
    Json j;
    try {
        j = Json::parse(line);
    } catch (const Json::exception& e) {
        return bad(e.what());
    }
    if (!j.is_object()) return bad("not a JSON object");
    // The job id first, so that even a bad request's error reaches the job that sent it.
    if (const auto it = j.find("job"); it != j.end() && it->is_string()) {
        r.job = it->get<std::string>();
    }
    const auto op = j.find("op");
    if (op == j.end() || !op->is_string()) return bad("no \"op\" string");
    if (op->get_ref<const std::string&>().empty()) return bad("an empty \"op\"");
    for (const char* key : {"job", "model", "path", "data", "refiner", "refiner_data", "device",
                            "scan"}) {
        const auto it = j.find(key);
        if (it != j.end() && !it->is_string()) return bad(std::string("\"") + key + "\" is not a string");
    }
    if (const auto it = j.find("arguments"); it != j.end()) {
        if (!it->is_array()) return bad("\"arguments\" is not an array");
        for (const auto& a : *it) {
            if (!a.is_string()) return bad("\"arguments\" holds a value that is not a string");
        }
    }
    r.op = op->get<std::string>();
    r.body = std::move(j);
    return r;
}

}  // namespace lidistill::worker
