#pragma once
// SPDX-License-Identifier: MIT
//
// `lidistill worker`: a long-lived process that keeps models loaded and runs jobs sent as JSON
// lines on stdin, answering with the event stream of core/base/Events.h on stdout (every event
// of a job carries its "job" id). Everything travels in the messages (scans in, clouds out,
// models uploaded as bytes when the worker cannot read the studio's files), so the worker can
// run on another machine behind any command prefix (ssh). Requests, one JSON object a line:
//
//   {"op":"load_model","job":J,"model":NAME,"path":FILE | "data":BASE64,"device":"cpu"}
//   {"op":"complete","job":J,"model":NAME,"scan":BASE64,"arguments":["--steps","8",...]}
//       scan: float32 little-endian x,y,z per point; arguments: `lidistill complete` options
//   {"op":"cancel","job":J}      the running (or a queued) job ends "cancelled"; the worker stays
//   {"op":"ping","job":J}        a result with the worker's pid
//   {"op":"quit"}                (or the end of stdin) ends the worker after the current job
//
// A job's events: started, progress..., result, ended; or error (with a code), ended. The
// result of a complete job holds "partial", "diffused" and "refined" clouds (base64 like the
// scan; "refined" empty without a refiner) and their point counts and seconds.
// Defined in builds with the ML library (LIDISTILL_HAVE_ML).
#include <filesystem>
#include <iosfwd>

namespace lidistill::cli {

/// Runs jobs from `in` until it ends or a quit; events to `out`, human notes to `err`.
/// Uploaded models are kept in `cacheDir` (created). @return the exit code (0).
int runWorker(std::istream& in, std::ostream& out, std::ostream& err,
              const std::filesystem::path& cacheDir);

}  // namespace lidistill::cli
