// SPDX-License-Identifier: MIT
#include "core/map/SequenceMap.h"

#include "core/base/Error.h"
#include "core/base/Log.h"

#include <numeric>
#include <string>

namespace lidistill::map {
namespace {
void checkFrame(const Sequence& seq, std::size_t i) {
    if (i >= seq.size()) {
        throw InvalidArgument("frame " + std::to_string(i) +
                              " is out of range: " + seq.dir().string() + " has " +
                              std::to_string(seq.size()) + " frames");
    }
}
}  // namespace

StaticMap buildStaticMap(const Sequence& seq, const std::vector<std::size_t>& frames,
                         const MapBuildOptions& options, ProgressSink* progress) {
    if (!seq.hasPoses()) {
        throw InvalidArgument(seq.dir().string() +
                              ": a static map needs poses.txt, which this sequence lacks");
    }
    if (!seq.hasLabels() && !options.allowUnlabeled) {
        throw InvalidArgument(seq.dir().string() +
                              ": a static map needs labels/ to keep static classes only");
    }
    for (const std::size_t i : frames) {
        checkFrame(seq, i);
    }
    MapBuilder builder(options);
    const double n = frames.empty() ? 1.0 : static_cast<double>(frames.size());
    for (std::size_t k = 0; k < frames.size(); ++k) {
        checkpoint(progress, static_cast<double>(k) / n, "static map: aggregating scans");
        const PointCloud scan = seq.loadScan(frames[k]);
        builder.addScan(scan, seq.pose(frames[k]));
    }
    checkpoint(progress, 1.0, "static map: tiling");
    log::debug(seq.dir().string(), ": static map of ", frames.size(), " scans has ", builder.size(),
               " points");
    return builder.finish();
}

StaticMap buildStaticMap(const Sequence& seq, const MapBuildOptions& options,
                         ProgressSink* progress) {
    std::vector<std::size_t> frames(seq.size());
    std::iota(frames.begin(), frames.end(), std::size_t{0});
    return buildStaticMap(seq, frames, options, progress);
}

StaticMap loadOrBuildStaticMap(const Sequence& seq, const std::filesystem::path& cacheFile,
                               const MapBuildOptions& options, ProgressSink* progress) {
    std::error_code ec;
    if (std::filesystem::exists(cacheFile, ec)) {
        try {
            const MapInfo info = StaticMap::readInfo(cacheFile);
            if (info.scanCount == seq.size() && sameBuild(info.build, options)) {
                StaticMap map = StaticMap::load(cacheFile);
                checkpoint(progress, 1.0, "static map: loaded");
                return map;
            }
            log::info(cacheFile.string(),
                      ": cached map was built with other parameters or "
                      "frames; rebuilding it");
        } catch (const IoError& e) {
            log::warn(e.what(), "; rebuilding the map");
        }
    }
    StaticMap map = buildStaticMap(seq, options, progress);
    map.save(cacheFile);
    return map;
}

PointCloud groundTruthForFrame(const Sequence& seq, const StaticMap& map, std::size_t i,
                               const GroundTruthOptions& options) {
    checkFrame(seq, i);
    const PointCloud scan = seq.loadScan(i);
    return groundTruthForScan(map, seq.pose(i), scan, options);
}

}  // namespace lidistill::map
