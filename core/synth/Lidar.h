#pragma once
// SPDX-License-Identifier: MIT

#include <Eigen/Core>

#include <string>
#include <string_view>
#include <vector>

namespace lidistill::synth {

/// A sector of azimuths that the sensor's own vehicle hides from the lower beams
/// (roof rack, antennas, the car's rear): rays of beams >= firstBeam with azimuth in
/// [fromDeg, toDeg] return nothing. Real KITTI scans show such gaps in the lowest rings.
struct OcclusionSector {
    int firstBeam = 0;
    double fromDeg = 0, toDeg = 0;
};

/// Geometry and error model of a rotating multi-beam LiDAR.
/// Beam 0 is the top beam; points are written beam by beam, each beam from azimuth 0
/// (forward) counter-clockwise round to 360, as KITTI's velodyne files are ordered.
struct LidarConfig {
    std::string name;
    std::vector<double> elevationsDeg;  ///< one per beam, top first
    int columns = 2170;                 ///< azimuth steps per revolution
    double rateHz = 10.0;               ///< revolutions per second (one scan each)
    double mountHeight = 1.73;          ///< sensor height above the road surface (m)
    double minRange = 1.0, maxRange = 120.0;
    double rangeNoise = 0.02;     ///< Gaussian range error, metres (1 sigma)
    double angleNoiseDeg = 0.01;  ///< per-ray pointing jitter (1 sigma)
    double randomDropout = 0.01;  ///< chance a ray returns nothing regardless of target
    /// Weak returns are lost: a return is kept with probability sigmoid of
    /// log(albedo * cos(incidence) * (refRange / r)^2 / threshold) / softness.
    double detectionThreshold = 0.004, detectionSoftness = 0.5, refRange = 50.0;
    /// Intensity scale: the KITTI files store remission 0..1, nuScenes 0..255.
    double intensityScale = 1.0;
    std::vector<OcclusionSector> selfOcclusion;

    std::size_t beams() const noexcept { return elevationsDeg.size(); }
    std::size_t raysPerScan() const noexcept { return beams() * static_cast<std::size_t>(columns); }

    /// Velodyne HDL-64E as on the KITTI car: 64 beams from +2.5 to -23.7 degrees as measured
    /// on real KITTI scans (upper block at 1/3 degree spacing, lower block at about 1/2
    /// degree), 2170 columns (0.166 degrees), mounted 1.73 m above the road, 10 Hz, with
    /// the lower beams' self-occlusion gaps seen in the real scans.
    static LidarConfig hdl64();
    /// Velodyne HDL-32E as on the nuScenes car: 32 beams from +10.67 to -30.67 degrees
    /// (1.33 degree spacing), 1085 columns, 1.84 m, 20 Hz, intensity 0..255.
    static LidarConfig hdl32();
    /// "hdl64" or "hdl32" (case-insensitive). @throws InvalidArgument otherwise.
    static LidarConfig byName(std::string_view name);
    /// @throws InvalidArgument if the config is inconsistent (no beams, bad ranges, ...).
    void validate() const;
};

}  // namespace lidistill::synth
