// SPDX-License-Identifier: MIT
// `lidistill synth`: a procedural street world scanned by a simulated LiDAR, written as a
// SemanticKITTI sequence.
#ifdef LIDISTILL_HAVE_SYNTH

#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#include "core/synth/SequenceWriter.h"

#include <filesystem>
#include <ostream>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;

int runSynth(const Args& args, Context& ctx) {
    synth::SynthOptions o;
    const auto out = args.value("out");
    if (!out || out->empty()) throw UsageError("--out DIR is required");
    const long long seed = args.integer("seed", 0);
    if (seed < 0) throw UsageError("--seed must be a non-negative integer");
    o.seed = static_cast<std::uint64_t>(seed);
    const long long frames = args.integer("frames", 10);
    if (frames < 1 || frames > 36000) throw UsageError("--frames must be in 1..36000");
    o.frames = static_cast<std::size_t>(frames);
    o.sensor = args.value("sensor", "hdl64");
    o.sequence = args.value("sequence", "00");
    o.egoSpeed = args.number("speed", 0.0);
    try {
        o.preset = synth::presetFromName(args.value("preset", "urban"));
    } catch (const InvalidArgument& e) {
        throw UsageError(e.what());
    }
    // An existing sequence is replaced only with --force, and then wholly: frames of the old
    // one left beside a shorter new one would make a sequence whose poses do not match.
    const fs::path dir = fs::path(*out) / "sequences" / o.sequence;
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
        if (!args.flag("force")) {
            throw UsageError(dir.string() + " exists: pass --force to replace that sequence");
        }
        for (const char* part : {"velodyne", "labels", "poses.txt", "times.txt", "calib.txt"}) {
            fs::remove_all(dir / part, ec);
            if (ec) throw IoError(dir / part, "cannot remove it (--force): " + ec.message());
        }
    }
    synth::SynthSummary s;
    {
        TerminalProgress bar(ctx.err, "synth", ctx.errIsTerminal);
        s = synth::writeSyntheticSequence(*out, o, &bar);
    }
    ctx.out << "wrote " << s.frames << " frames (" << s.points << " points, "
            << (s.frames ? s.points / s.frames : 0) << " a scan) to " << s.directory.string()
            << " in " << s.seconds << " s\n";
    return kOk;
}

}  // namespace

Command synthCommand() {
    Command c;
    c.name = "synth";
    c.summary = "generate a synthetic SemanticKITTI sequence (procedural streets, simulated LiDAR)";
    c.description =
        "Builds a seeded street world (roads, sidewalks, buildings, trees, poles, signs, fences,\n"
        "parked and moving cars, pedestrians), drives a car along it and scans it with a rotating\n"
        "multi-beam LiDAR. Writes "
        "OUT/sequences/XX/{velodyne,labels,poses.txt,calib.txt,times.txt}.\n"
        "The same options give byte-identical files.";
    c.options = {
        {"seed", "S", "world and noise seed", false, "0"},
        {"frames", "N", "number of scans", false, "10"},
        {"out", "DIR", "dataset root (required)", false, ""},
        {"force", "", "replace the sequence if DIR holds it already", true, ""},
        {"sensor", "NAME", "hdl64 (KITTI) or hdl32 (nuScenes)", false, "hdl64"},
        {"preset", "NAME", "urban, suburban or rural", false, "urban"},
        {"sequence", "XX", "sequence folder name", false, "00"},
        {"speed", "M/S", "ego speed; 0 picks the preset's", false, "0"},
    };
    c.run = runSynth;
    return c;
}

}  // namespace lidistill::cli

#endif  // LIDISTILL_HAVE_SYNTH
