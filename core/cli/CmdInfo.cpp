// SPDX-License-Identifier: MIT
// `lidistill info`: what a scan file or a sequence folder holds.
#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"

#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

namespace lidistill::cli {
namespace fs = std::filesystem;

namespace {

nlohmann::json describeCloud(const PointCloud& c) {
    nlohmann::json j;
    j["points"] = c.size();
    std::vector<std::string> fields{"x", "y", "z"};
    if (c.hasIntensity()) fields.push_back("intensity");
    if (c.hasLabels()) fields.push_back("label");
    if (c.hasRing()) fields.push_back("ring");
    j["fields"] = fields;
    if (!c.empty()) {
        std::array<float, 3> lo, hi;
        lo.fill(std::numeric_limits<float>::max());
        hi.fill(std::numeric_limits<float>::lowest());
        double rangeSum = 0;
        for (const auto& p : c.xyz) {
            for (int k = 0; k < 3; ++k) {
                lo[k] = std::min(lo[k], p[k]);
                hi[k] = std::max(hi[k], p[k]);
            }
            rangeSum += std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        }
        j["min"] = lo;
        j["max"] = hi;
        j["mean_range_m"] = rangeSum / double(c.size());
    }
    if (c.hasIntensity()) {
        auto [mn, mx] = std::minmax_element(c.intensity.begin(), c.intensity.end());
        j["intensity_range"] = {*mn, *mx};
    }
    if (c.hasLabels()) {
        std::map<int, std::size_t> classes;
        std::size_t moving = 0;
        for (auto l : c.label) {
            ++classes[semanticClass(l)];
            moving += semanticClass(l) >= 252;
        }
        nlohmann::json cls = nlohmann::json::object();
        for (auto& [k, n] : classes) cls[std::to_string(k)] = n;
        j["classes"] = cls;
        j["moving_points"] = moving;
    }
    return j;
}

void printCloud(std::ostream& out, const nlohmann::json& j) {
    out << "points:      " << j["points"].get<std::size_t>() << '\n';
    out << "fields:      ";
    for (const auto& f : j["fields"]) out << f.get<std::string>() << ' ';
    out << '\n';
    if (j.contains("min")) {
        out << std::fixed << std::setprecision(2);
        for (int k = 0; k < 3; ++k) {
            out << "xyz"[k] << " range:     " << j["min"][k].get<float>() << " .. "
                << j["max"][k].get<float>() << " m\n";
        }
        out << "mean range:  " << j["mean_range_m"].get<double>() << " m\n";
    }
    if (j.contains("intensity_range")) {
        out << "intensity:   " << j["intensity_range"][0].get<float>() << " .. "
            << j["intensity_range"][1].get<float>() << '\n';
    }
    if (j.contains("classes")) {
        out << "classes:     ";
        for (auto& [k, v] : j["classes"].items()) out << k << ':' << v.get<std::size_t>() << ' ';
        out << "\nmoving:      " << j["moving_points"].get<std::size_t>() << " points\n";
    }
}

int runInfo(const Args& args, Context& ctx) {
    const fs::path path = args.positional().at(0);
    const bool json = args.flag("json");
    io::ReadOptions opt;
    opt.strict = args.flag("strict");
    nlohmann::json j;
    if (!fs::exists(path)) throw IoError(path, "no such file or folder");
    if (fs::is_directory(path)) {
        const Sequence seq = Sequence::open(path);
        j["kind"] = "sequence";
        j["path"] = seq.dir().string();
        j["frames"] = seq.size();
        j["first_frame"] = seq.frameName(0);
        j["last_frame"] = seq.frameName(seq.size() - 1);
        j["labels"] = seq.hasLabels();
        j["poses"] = seq.hasPoses();
        j["calib"] = seq.hasCalib();
        if (seq.hasPoses()) {
            double length = 0;
            for (std::size_t i = 1; i < seq.size(); ++i) {
                length +=
                    (seq.pose(i).block<3, 1>(0, 3) - seq.pose(i - 1).block<3, 1>(0, 3)).norm();
            }
            j["trajectory_length_m"] = length;
        }
        if (auto t0 = seq.time(0), t1 = seq.time(seq.size() - 1); t0 && t1) {
            j["duration_s"] = *t1 - *t0;
        }
        const long long frame = args.integer("frame", 0);
        if (frame < 0 || static_cast<std::size_t>(frame) >= seq.size()) {
            throw UsageError("--frame must be in [0, " + std::to_string(seq.size() - 1) + "]");
        }
        j["frame"] = describeCloud(seq.loadScan(static_cast<std::size_t>(frame), opt));
        j["frame"]["name"] = seq.frameName(static_cast<std::size_t>(frame));
    } else {
        j["kind"] = "file";
        j["path"] = path.string();
        j["cloud"] = describeCloud(io::readCloud(path, opt));
    }
    if (json) {
        ctx.out << j.dump(2) << '\n';
        return kOk;
    }
    if (j["kind"] == "sequence") {
        ctx.out << "sequence:    " << j["path"].get<std::string>() << '\n'
                << "frames:      " << j["frames"].get<std::size_t>() << " ("
                << j["first_frame"].get<std::string>() << " .. "
                << j["last_frame"].get<std::string>() << ")\n"
                << "labels:      " << (j["labels"].get<bool>() ? "yes" : "no") << '\n'
                << "poses:       " << (j["poses"].get<bool>() ? "yes" : "no")
                << (j["calib"].get<bool>() ? " (calib.txt Tr applied)" : "") << '\n';
        if (j.contains("trajectory_length_m")) {
            ctx.out << "trajectory:  " << std::fixed << std::setprecision(2)
                    << j["trajectory_length_m"].get<double>() << " m\n";
        }
        if (j.contains("duration_s")) {
            ctx.out << "duration:    " << j["duration_s"].get<double>() << " s\n";
        }
        ctx.out << "\nframe " << j["frame"]["name"].get<std::string>() << ":\n";
        printCloud(ctx.out, j["frame"]);
    } else {
        ctx.out << "file:        " << j["path"].get<std::string>() << '\n';
        printCloud(ctx.out, j["cloud"]);
    }
    return kOk;
}

}  // namespace

Command infoCommand() {
    Command c;
    c.name = "info";
    c.summary = "Describe a scan file (.bin, .pcd.bin, .pcd, .ply) or a sequence folder";
    c.synopsis = "PATH";
    c.description =
        "For a file: point count, fields, bounds, intensity range and SemanticKITTI classes.\n"
        "For a sequence folder (SemanticKITTI layout or a folder of scans): frame count, labels,\n"
        "poses, trajectory length, and the description of one frame.";
    c.options = {{"frame", "N", "frame of a sequence to describe", false, "0"},
                 {"strict", "", "fail on NaN/inf coordinates instead of dropping them", true, ""},
                 {"json", "", "print JSON instead of text", true, ""}};
    c.minPositional = c.maxPositional = 1;
    c.run = runInfo;
    return c;
}

}  // namespace lidistill::cli
