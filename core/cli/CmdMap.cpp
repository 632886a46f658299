// SPDX-License-Identifier: MIT
// `lidistill build-map` and `lidistill gt`: the static map of a sequence and per-frame
// ground truth (reference §1.2 and §7.1).
#include "core/base/Log.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/map/SequenceMap.h"

#include <charconv>
#include <filesystem>
#include <ostream>
#include <string_view>

namespace lidistill::cli {
namespace fs = std::filesystem;

namespace {

map::MapBuildOptions buildOptions(const Args& args) {
    map::MapBuildOptions o;
    o.voxelSize = args.number("voxel", o.voxelSize);
    o.minRange = args.number("min-range", o.minRange);
    o.tileSize = args.number("tile", o.tileSize);
    o.rangeIncludesRemission = !args.flag("euclidean-range");
    o.allowUnlabeled = args.flag("allow-unlabeled");
    o.validate();
    return o;
}

std::vector<OptionSpec> buildOptionSpecs() {
    return {{"voxel", "M", "down-sampling voxel edge in metres", false, "0.1"},
            {"min-range", "M", "drop points this close to the sensor", false, "3.5"},
            {"tile", "M", "storage tile edge in metres", false, "25"},
            {"euclidean-range", "",
             "measure min-range on x,y,z only (LiDiff includes remission in the norm)", true, ""},
            {"allow-unlabeled", "", "keep every point of scans without labels", true, ""}};
}

int runBuildMap(const Args& args, Context& ctx) {
    const Sequence seq = Sequence::open(args.positional().at(0));
    const fs::path out = args.positional().at(1);
    const auto options = buildOptions(args);
    const auto frames = frameRange(args, seq.size());
    map::StaticMap m;
    {
        TerminalProgress bar(ctx.err, "build-map", ctx.errIsTerminal);
        m = map::buildStaticMap(seq, frames, options, &bar);
    }
    m.save(out);
    ctx.out << "map: " << m.size() << " points from " << frames.size() << " scans, "
            << m.tiles().size() << " tiles of " << options.tileSize << " m, voxel "
            << options.voxelSize << " m -> " << out.string() << '\n';
    if (auto ply = args.value("ply")) {
        io::writeCloud(*ply, m.toCloud());
        ctx.out << "wrote " << *ply << '\n';
    }
    return kOk;
}

int runGt(const Args& args, Context& ctx) {
    const Sequence seq = Sequence::open(args.positional().at(0));
    std::size_t frame = 0;
    if (!parseIndex(args.positional().at(1), frame)) {
        throw UsageError("FRAME must be a frame index, got '" + args.positional().at(1) + "'");
    }
    if (frame >= seq.size()) {
        throw UsageError("FRAME must be in [0, " + std::to_string(seq.size() - 1) + "]");
    }
    const fs::path out = args.value("out", seq.frameName(frame) + "_gt.ply");
    const auto options = buildOptions(args);
    map::StaticMap m;
    {
        TerminalProgress bar(ctx.err, "gt", ctx.errIsTerminal);
        if (auto mapFile = args.value("map")) {
            m = map::loadOrBuildStaticMap(seq, *mapFile, options, &bar);
        } else {
            m = map::buildStaticMap(seq, options, &bar);
        }
    }
    map::GroundTruthOptions gto;
    gto.radius = args.number("radius", gto.radius);
    gto.zMin = args.number("z-min", gto.zMin);
    gto.zMax = args.number("z-max", gto.zMax);
    gto.useViewpointMask = !args.flag("no-viewpoint-mask");
    gto.validate();
    const PointCloud gt = map::groundTruthForFrame(seq, m, frame, gto);
    io::writeCloud(out, gt);
    ctx.out << "ground truth of frame " << seq.frameName(frame) << ": " << gt.size()
            << " points -> " << out.string() << '\n';
    return kOk;
}

}  // namespace

Command buildMapCommand() {
    Command c;
    c.name = "build-map";
    c.summary = "Build a sequence's dense static map from its posed, labelled scans";
    c.synopsis = "SEQUENCE_DIR MAP_FILE";
    c.description =
        "As LiDiff's map_from_scans.py: keep classes 1 < c < 252, drop points within 3.5 m of\n"
        "the sensor, transform by the LiDAR pose, keep one original point per voxel. The map is\n"
        "stored in x-y tiles (.ldmap) so that a scan's ground truth reads only nearby tiles.";
    c.options = buildOptionSpecs();
    c.options.push_back({"frames", "A:B", "only frames A..B-1", false, "all"});
    c.options.push_back({"ply", "FILE", "also export the map as PLY/PCD/.bin", false, ""});
    c.minPositional = c.maxPositional = 2;
    c.run = runBuildMap;
    return c;
}

Command gtCommand() {
    Command c;
    c.name = "gt";
    c.summary = "Write the ground truth of one frame (map crop in the scan frame)";
    c.synopsis = "SEQUENCE_DIR FRAME";
    c.description =
        "Map points within 50 m of the scan position, in the scan frame, -4 < z < 4.4, inside\n"
        "the 10 m voxels occupied by the scan (reference §7.1). With --map the map is read from\n"
        "that file, or built and saved there if it is missing or built differently.";
    c.options = buildOptionSpecs();
    c.options.push_back({"out", "FILE", "output file (.ply, .pcd or .bin)", false, "FRAME_gt.ply"});
    c.options.push_back({"map", "FILE", "map cache file (.ldmap)", false, ""});
    c.options.push_back({"radius", "M", "crop radius around the sensor", false, "50"});
    c.options.push_back({"z-min", "M", "lower z bound in the scan frame", false, "-4"});
    c.options.push_back({"z-max", "M", "upper z bound in the scan frame", false, "4.4"});
    c.options.push_back(
        {"no-viewpoint-mask", "", "keep points outside the scan's 10 m voxels", true, ""});
    c.minPositional = c.maxPositional = 2;
    c.run = runGt;
    return c;
}

}  // namespace lidistill::cli
