// SPDX-License-Identifier: MIT
// The requests a `lidistill worker` reads (worker::parseRequest, core/base/WorkerRequest.h).
// Input: text, parsed line by line. A line is a request whose every known field has the type
// the worker reads, or a bad request with a reason; the parser never throws.
#include "core/base/WorkerRequest.h"
#include "tests/fuzz/FuzzTarget.h"

#include <sstream>

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(worker_requests) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    for (std::string line; std::getline(in, line);) {
        const auto r = worker::parseRequest(line);
        FUZZ_CHECK(!r.op.empty());
        FUZZ_CHECK(r.body.is_object());
        if (!r.error.empty()) {
            FUZZ_CHECK(r.op == "request" && r.body.empty());
            continue;
        }
        // What the worker then does with it, which must not throw: the typed reads.
        FUZZ_CHECK(r.body.at("op").get<std::string>() == r.op);
        FUZZ_CHECK(r.body.value("job", std::string()) == r.job);
        for (const char* key : {"model", "path", "data", "refiner", "refiner_data", "device",
                                "scan"}) {
            (void)r.body.value(key, std::string());
        }
        if (r.body.contains("arguments")) {
            (void)r.body.at("arguments").get<std::vector<std::string>>();
        }
    }
}
