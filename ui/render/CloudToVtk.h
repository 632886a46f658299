#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"

#include <vtkPolyData.h>  // complete type: CloudPolyData is copied across threads
#include <vtkSmartPointer.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace lidistill::ui {

/// Names of the point-data arrays toPolyData() writes.
inline constexpr const char* kHeightArray = "height";         ///< float, z in metres
inline constexpr const char* kIntensityArray = "intensity";   ///< float, as read
inline constexpr const char* kLabelColorArray = "label_rgb";  ///< uchar x3, palette colours
inline constexpr const char* kRangeArray = "range";           ///< float, metres from the origin
inline constexpr const char* kInstanceColorArray = "instance_rgb";  ///< uchar x3, per instance
/// uint32, the raw SemanticKITTI label (class | instance << 16): what a point pick reports.
inline constexpr const char* kLabelArray = "label";

/// A cloud ready for a VTK mapper plus the statistics its colour bars need.
struct CloudPolyData {
    vtkSmartPointer<vtkPolyData> polyData;  ///< points (float), one vertex cell per point
    std::size_t pointCount = 0;
    /// Robust colour ranges: 2nd and 98th percentile, so a few outliers (a tall pole, a
    /// retro-reflector) do not wash out the whole scan. {0, 1} when the field is absent.
    std::array<double, 2> heightRange{0.0, 1.0};
    std::array<double, 2> intensityRange{0.0, 1.0};
    /// Distance from the frame's origin, which is the sensor for a scan and for its
    /// ground-truth crop (both are in the scan's frame).
    std::array<double, 2> rangeRange{0.0, 1.0};
    bool hasIntensity = false;
    bool hasLabels = false;
    /// Distinct (class, instance) pairs with a non-zero instance id.
    std::size_t instanceCount = 0;
    /// (semantic class, point count) for every class present, ascending by class id.
    std::vector<std::pair<std::uint16_t, std::size_t>> classCounts;
};

/// Converts a cloud into a fresh vtkPolyData with kHeightArray, kRangeArray, kIntensityArray
/// (when the cloud has intensity), kLabelColorArray (official SemanticKITTI colours) and
/// kInstanceColorArray (instanceColor(), points without an instance grey) and kLabelArray
/// (the raw labels), all three when it has labels. The result shares nothing with any live
/// pipeline, so this may run on a worker thread; hand the result to the GUI thread and swap it into
/// a mapper there.
/// @throws InvalidArgument if the cloud's fields are inconsistent (PointCloud::validate()).
/// Thread-safe (touches no shared state).
CloudPolyData toPolyData(const PointCloud& cloud);

/// The value at quantile q in [0, 1] (nearest rank) of `values`; 0 for an empty input.
/// Takes a copy because it partially sorts. Exposed for tests.
float quantile(std::vector<float> values, double q);

}  // namespace lidistill::ui
