#pragma once
// SPDX-License-Identifier: MIT

#include <filesystem>
#include <stdexcept>
#include <string>

namespace lidistill {

/// Root of every exception thrown by core/. Catch this at a process or thread boundary.
///
/// Policy: throw when the caller cannot get what it asked for (unreadable file, bad config,
/// cancelled work); warn through log:: when the result is still usable (dropped NaN points,
/// missing calib.txt). Messages are complete sentences meant for a person.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A file could not be read or written, or its content is malformed.
/// The message always starts with the file path, so a user sees which file is at fault.
class IoError : public Error {
public:
    /// @param file the offending file; @param problem what is wrong with it.
    IoError(const std::filesystem::path& file, const std::string& problem)
        : Error(file.string() + ": " + problem), m_file(file), m_problem(problem) {}
    const std::filesystem::path& file() const noexcept { return m_file; }
    const std::string& problem() const noexcept { return m_problem; }

private:
    std::filesystem::path m_file;
    std::string m_problem;
};

/// A caller passed a value outside the documented range, or a config is inconsistent.
class InvalidArgument : public Error {
public:
    using Error::Error;
};

/// A model could not be built, loaded or run (shape mismatch, corrupt checkpoint, torch error).
class ModelError : public Error {
public:
    using Error::Error;
};

/// Long work stopped because its ProgressSink asked it to. Not a failure: callers that
/// offer a Cancel button catch this and report "cancelled".
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

}  // namespace lidistill
