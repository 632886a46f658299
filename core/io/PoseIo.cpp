// SPDX-License-Identifier: MIT
#include "core/io/PoseIo.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/Strings.h"
#include "core/io/ScanIo.h"

#include <Eigen/LU>

#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

namespace lidistill::io {
namespace fs = std::filesystem;

namespace {

/// The lines of a text file, CR stripped; trailing blank lines are dropped because editors add
/// them, while a blank line inside would shift every later frame and is left for callers to reject.
std::vector<std::string> readLines(const fs::path& file) {
    const std::vector<char> bytes = readFileBytes(file);
    std::vector<std::string> lines;
    std::string_view text(bytes.data(), bytes.size());
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        lines.emplace_back(line);
        start = end + 1;
    }
    while (!lines.empty() && splitWhitespace(lines.back()).empty()) {
        lines.pop_back();
    }
    if (lines.empty()) {
        throw IoError(file, "file holds only blank lines");
    }
    return lines;
}

std::string where(std::size_t lineIndex) {
    return "line " + std::to_string(lineIndex + 1);
}

double parseNumber(const fs::path& file, std::size_t lineIndex, const std::string& token) {
    double value = 0.0;
    const char* begin = token.data();
    const char* end = begin + token.size();
    // from_chars rejects a leading '+', which some writers emit.
    if (begin != end && *begin == '+') {
        ++begin;
    }
    const auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr != end) {
        throw IoError(file, where(lineIndex) + ": '" + token + "' is not a number");
    }
    if (!std::isfinite(value)) {
        throw IoError(file, where(lineIndex) + ": '" + token + "' is not a finite number");
    }
    return value;
}

Eigen::Matrix<double, 3, 4> parse3x4(const fs::path& file, std::size_t lineIndex,
                                     const std::vector<std::string>& tokens, std::size_t first) {
    if (tokens.size() - first != 12) {
        throw IoError(file, where(lineIndex) +
                                ": expected 12 numbers (a 3x4 row-major matrix), found " +
                                std::to_string(tokens.size() - first));
    }
    Eigen::Matrix<double, 3, 4> m;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 4; ++c) {
            m(r, c) = parseNumber(file, lineIndex, tokens[first + 4 * r + c]);
        }
    }
    return m;
}

Eigen::Matrix4d complete(const Eigen::Matrix<double, 3, 4>& m) {
    Eigen::Matrix4d t = Eigen::Matrix4d::Identity();
    t.topRows<3>() = m;
    return t;
}

/// Shortest text that reads back as the same double.
std::string formatNumber(double v) {
    char buf[64];
    const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, ec == std::errc() ? ptr : buf);
}

void append3x4(std::string& out, const Eigen::Matrix4d& t) {
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 4; ++c) {
            if (r + c > 0) {
                out += ' ';
            }
            out += formatNumber(t(r, c));
        }
    }
}

void rejectBlank(const fs::path& file, std::size_t lineIndex, const std::vector<std::string>& t) {
    if (t.empty()) {
        throw IoError(file, where(lineIndex) +
                                ": blank line inside the file (one entry a line "
                                "per frame is expected)");
    }
}

}  // namespace

std::optional<Eigen::Matrix4d> Calibration::tr() const {
    const auto it = entries.find("Tr");
    if (it == entries.end()) {
        return std::nullopt;
    }
    return complete(it->second);
}

Calibration readCalib(const fs::path& file) {
    const std::vector<std::string> lines = readLines(file);
    Calibration calib;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto tokens = splitWhitespace(lines[i]);
        if (tokens.empty()) {
            continue;  // blank lines carry no frame index here, so they are harmless
        }
        const std::string& key = tokens[0];
        if (key.size() < 2 || key.back() != ':') {
            throw IoError(file,
                          where(i) + ": expected 'KEY: 12 numbers', found '" + lines[i] + "'");
        }
        const std::string name = key.substr(0, key.size() - 1);
        if (calib.entries.count(name) != 0) {
            throw IoError(file, where(i) + ": key '" + name + "' appears twice");
        }
        calib.entries.emplace(name, parse3x4(file, i, tokens, 1));
    }
    return calib;
}

void writeCalib(const fs::path& file, const Calibration& calib) {
    std::string text;
    for (const auto& [key, m] : calib.entries) {
        text += key + ": ";
        append3x4(text, complete(m));
        text += '\n';
    }
    writeStreamAtomically(file, [&](std::ostream& out) { out << text; });
}

std::vector<Eigen::Matrix4d> readPoses(const fs::path& file) {
    const std::vector<std::string> lines = readLines(file);
    std::vector<Eigen::Matrix4d> poses;
    poses.reserve(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto tokens = splitWhitespace(lines[i]);
        rejectBlank(file, i, tokens);
        poses.push_back(complete(parse3x4(file, i, tokens, 0)));
    }
    return poses;
}

void writePoses(const fs::path& file, const std::vector<Eigen::Matrix4d>& poses) {
    std::string text;
    for (const auto& p : poses) {
        append3x4(text, p);
        text += '\n';
    }
    writeStreamAtomically(file, [&](std::ostream& out) { out << text; });
}

std::vector<double> readTimes(const fs::path& file) {
    const std::vector<std::string> lines = readLines(file);
    std::vector<double> times;
    times.reserve(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto tokens = splitWhitespace(lines[i]);
        rejectBlank(file, i, tokens);
        if (tokens.size() != 1) {
            throw IoError(file, where(i) + ": expected one number of seconds, found " +
                                    std::to_string(tokens.size()) + " values");
        }
        times.push_back(parseNumber(file, i, tokens[0]));
    }
    return times;
}

void writeTimes(const fs::path& file, const std::vector<double>& seconds) {
    std::string text;
    for (double s : seconds) {
        text += formatNumber(s);
        text += '\n';
    }
    writeStreamAtomically(file, [&](std::ostream& out) { out << text; });
}

std::vector<Eigen::Matrix4d> cameraToLidarPoses(const std::vector<Eigen::Matrix4d>& cameraPoses,
                                                const Eigen::Matrix4d& tr) {
    // Tr is not exactly orthonormal in KITTI's files; the general inverse keeps the two
    // conversions exact inverses of each other.
    const Eigen::Matrix4d trInv = tr.inverse();
    std::vector<Eigen::Matrix4d> out;
    out.reserve(cameraPoses.size());
    for (const auto& p : cameraPoses) {
        out.push_back(trInv * p * tr);
    }
    return out;
}

std::vector<Eigen::Matrix4d> lidarToCameraPoses(const std::vector<Eigen::Matrix4d>& lidarPoses,
                                                const Eigen::Matrix4d& tr) {
    const Eigen::Matrix4d trInv = tr.inverse();
    std::vector<Eigen::Matrix4d> out;
    out.reserve(lidarPoses.size());
    for (const auto& t : lidarPoses) {
        out.push_back(tr * t * trInv);
    }
    return out;
}

}  // namespace lidistill::io
