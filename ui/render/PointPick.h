#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/CloudToVtk.h"

#include <QString>

class vtkPolyData;
class vtkRenderer;

#include <array>
#include <cstdint>
#include <optional>

namespace lidistill::ui {

/// The values of one cloud point, as a click on it reports them (PointCloudView::pickAt()).
struct PickedPoint {
    std::int64_t index = -1;             ///< position in the cloud (and in the file it came from)
    std::array<double, 3> xyz{};         ///< metres, in the displayed frame
    double range = 0.0;                  ///< metres from the frame's origin (the sensor for a scan)
    std::optional<float> intensity;      ///< when the cloud has intensity
    std::optional<std::uint32_t> label;  ///< raw SemanticKITTI label, when the cloud has labels
};

/// The point of `poly` drawn at display position (`x`, `y`) of `renderer` (device pixels,
/// origin bottom-left), as the user sees it: every point is projected with the renderer's
/// camera; among those whose `pointSizePx`-wide square covers the position, the one nearest
/// the camera wins (so a click on a car never reports the road behind it); when none covers
/// it, the one drawn nearest to it within `tolerancePx`. Points outside the clipping range
/// are ignored. A CPU pass over the points (about 10 ms for 2 M on one core), meant for a
/// click, never per frame. @return the point's index, or -1 when nothing is near.
/// GUI thread (reads the live camera).
std::int64_t pickDrawnPoint(vtkPolyData* poly, vtkRenderer* renderer, double x, double y,
                            double pointSizePx, double tolerancePx);

/// Reads point `index` of `cloud` from its VTK arrays (points, kRangeArray, kIntensityArray,
/// kLabelArray). @throws InvalidArgument when the cloud is empty or `index` is out of range.
/// GUI thread (or any thread that owns `cloud` alone).
PickedPoint pointAt(const CloudPolyData& cloud, std::int64_t index);

/// One line for the status bar, e.g. "point 1,234: x 12.34  y -3.21  z -1.70 m | range
/// 12.85 m | intensity 0.31 | car (class 10), instance 7". Unknown classes read "class N";
/// instance 0 is left out. Thread-safe.
QString describePoint(const PickedPoint& point);

}  // namespace lidistill::ui
