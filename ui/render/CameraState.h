#pragma once
// SPDX-License-Identifier: MIT

#include <QString>

#include <array>

class vtkCamera;

namespace lidistill::ui {

/// Everything that fixes what a vtkCamera shows, as plain values: enough to save a view,
/// paste it into another session, or restore it after a temporary bird's-eye view.
struct CameraState {
    std::array<double, 3> position{0.0, 0.0, 1.0};
    std::array<double, 3> focalPoint{0.0, 0.0, 0.0};
    std::array<double, 3> viewUp{0.0, 1.0, 0.0};
    double viewAngle = 30.0;     ///< vertical field of view in degrees (perspective)
    double parallelScale = 1.0;  ///< half the visible height in metres (orthographic)
    bool parallelProjection = false;

    friend bool operator==(const CameraState&, const CameraState&) = default;
};

/// Reads the state of `camera`. GUI thread (the camera belongs to a live renderer).
CameraState captureCamera(vtkCamera* camera);
/// Applies `state` to `camera` (the caller re-renders and resets clipping ranges).
void applyCamera(vtkCamera* camera, const CameraState& state);

/// The state as indented JSON text:
/// `{"format": "lidistill-camera", "version": 1, "position": [x, y, z],
///   "focal_point": [...], "view_up": [...], "view_angle": deg, "parallel_scale": m,
///   "parallel_projection": bool}`. Numbers keep full double precision.
QString cameraToJson(const CameraState& state);

/// Parses cameraToJson()'s text. "format" and "version" are optional (hand-written text is
/// fine); position, focal_point and view_up are required; view_angle, parallel_scale and
/// parallel_projection default to CameraState's values.
/// @throws InvalidArgument naming the problem: not JSON, a missing or non-numeric field,
///         position equal to the focal point, a view-up parallel to the view direction, a
///         view angle outside (0, 180) or a non-positive parallel scale.
/// Thread-safe.
CameraState cameraFromJson(const QString& text);

}  // namespace lidistill::ui
