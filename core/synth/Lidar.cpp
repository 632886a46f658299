// SPDX-License-Identifier: MIT
#include "core/synth/Lidar.h"

#include "core/base/Error.h"
#include "core/base/Strings.h"

namespace lidistill::synth {

LidarConfig LidarConfig::hdl64() {
    LidarConfig c;
    c.name = "hdl64";
    // Beam angles as measured on the SemanticKITTI 00 scans (per-ring mean elevation):
    // upper block +2.5 to -7.7 degrees, lower block -8.34 to -23.71 (datasheet: +2 to -24.8).
    for (int i = 0; i < 32; ++i) c.elevationsDeg.push_back(2.5 - i * (10.2 / 31.0));
    for (int i = 0; i < 32; ++i) c.elevationsDeg.push_back(-8.34 - i * (15.37 / 31.0));
    c.columns = 2170;
    c.rateHz = 10.0;
    c.mountHeight = 1.73;
    c.minRange = 2.5;
    c.maxRange = 120.0;
    // Gaps measured on SemanticKITTI 00 (rear, front mounts, right-hand rack).
    c.selfOcclusion = {{52, 155, 205}, {56, -13, 13},    {57, -80, -62}, {48, -78, -72},
                       {58, 125, 150}, {58, -150, -125}, {60, -25, 25}};
    return c;
}

LidarConfig LidarConfig::hdl32() {
    LidarConfig c;
    c.name = "hdl32";
    for (int i = 0; i < 32; ++i) c.elevationsDeg.push_back(10.67 - i * (41.34 / 31.0));
    c.columns = 1085;
    c.rateHz = 20.0;
    c.mountHeight = 1.84;
    c.minRange = 1.0;
    c.maxRange = 100.0;
    c.intensityScale = 255.0;
    return c;
}

LidarConfig LidarConfig::byName(std::string_view name) {
    const std::string n = toLower(name);
    if (n == "hdl64" || n == "hdl64e" || n == "kitti") return hdl64();
    if (n == "hdl32" || n == "hdl32e" || n == "nuscenes") return hdl32();
    throw InvalidArgument("unknown sensor '" + std::string(name) + "' (expected hdl64 or hdl32)");
}

void LidarConfig::validate() const {
    if (elevationsDeg.empty() || elevationsDeg.size() > 65535) {
        throw InvalidArgument("lidar '" + name + "': needs 1..65535 beams");
    }
    if (columns < 8 || columns > 100000) {
        throw InvalidArgument("lidar '" + name + "': columns must be in 8..100000");
    }
    if (!(rateHz > 0) || !(minRange >= 0) || !(maxRange > minRange) || !(rangeNoise >= 0) ||
        !(mountHeight > 0)) {
        throw InvalidArgument("lidar '" + name +
                              "': rate, ranges, noise and height must be positive");
    }
}

}  // namespace lidistill::synth
