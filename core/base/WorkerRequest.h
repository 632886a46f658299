#pragma once
// SPDX-License-Identifier: MIT
//
// The requests `lidistill worker` reads (core/cli/Worker.h), parsed and type-checked in one
// place with no Qt and no torch, so the parser is fuzzed (tests/fuzz/fuzz_worker_requests) and
// the worker never meets a field of the wrong type: a line another program wrote, a number as
// a job id, a path that is an object, is a bad request answered with an error event, never a
// crash.

#include <nlohmann/json.hpp>

#include <string>

namespace lidistill::worker {

struct Request {
    std::string op;     ///< the request's "op"; "request" for a line that is not a request
    std::string job;    ///< its "job" id ("" when absent or not a string)
    nlohmann::json body;  ///< the object: every field the worker reads is of its type
    std::string error;  ///< why the line is not a request; empty for a good one
};

/// One line of the worker's input. Known fields and their types: op (string, required, not empty), job,
/// model, path, data, refiner, refiner_data, device, scan (strings), arguments (an array of
/// strings). Unknown fields are kept and ignored. Never throws.
Request parseRequest(const std::string& line);

}  // namespace lidistill::worker
