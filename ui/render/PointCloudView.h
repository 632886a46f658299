#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/CameraState.h"
#include "ui/render/CloudToVtk.h"
#include "ui/render/ColorMaps.h"
#include "ui/render/PointPick.h"
#include "ui/render/VtkViewport.h"

#include <QPointF>
#include <QString>

#include <vtkSmartPointer.h>

#include <array>
#include <memory>
#include <optional>

class vtkActor;
class vtkPolyDataMapper;
class vtkScalarBarActor;
class vtkTextActor;

namespace lidistill::ui {

class AxisTriad;
class ClassLegend;

/// What the points are coloured by.
enum class ColorMode {
    Height,  ///< z through the colormap, over the scan's robust or a fixed range, with a colour bar
    Range,   ///< distance from the sensor, as Height
    Intensity,      ///< remission, as Height
    SemanticClass,  ///< official SemanticKITTI palette, with a legend of the classes present
    Instance,       ///< one colour per object instance (instanceColor()), the rest grey
};

/// Whether `mode` maps a scalar through a colormap (height, range, intensity).
constexpr bool isScalarMode(ColorMode mode) noexcept {
    return mode == ColorMode::Height || mode == ColorMode::Range || mode == ColorMode::Intensity;
}

/// The quantity of a scalar mode with its unit, as the colour bar titles it: "height [m]",
/// "range [m]", "intensity" (no unit: KITTI remission is 0-1, nuScenes 0-255); empty for
/// the class modes.
QString scalarModeName(ColorMode mode);

/// A colour range [min, max] of a scalar mode.
using ColorRange = std::array<double, 2>;

/// Fixed camera directions, in the sensor frame (KITTI: x forward, y left, z up).
enum class ViewPreset {
    Front,  ///< from behind the sensor, looking forward (+x), z up
    Side,   ///< from the right (-y), looking left (+y): x runs to the right, z up
    Top,    ///< from above, looking down (-z), forward (+x) up on screen, left on the left
};

/// A VtkViewport that shows one point cloud: point verts, unlit, with a colour bar or class
/// legend, a title in the top-left corner and a centred message when it has nothing to show.
/// Scalar modes map through a chosen colormap over either the cloud's robust range (2nd to
/// 98th percentile, per cloud) or a fixed range per mode, which survives setCloud() so that
/// frames stay comparable; the colour bar names the quantity, its unit and whether the range
/// is fixed. A left click (press and release without moving) on a point emits pointPicked().
/// Keys (when focused and not taken by a window shortcut): R resets the view, +/- change the
/// point size. GUI thread only.
class PointCloudView : public VtkViewport {
    Q_OBJECT

public:
    explicit PointCloudView(QWidget* parent = nullptr);
    ~PointCloudView() override;

    /// Shows `cloud` (built by toPolyData(), possibly on a worker) in place of the current one.
    /// The camera is kept, except for the first cloud, which resets it.
    void setCloud(CloudPolyData cloud);
    /// Removes the cloud and shows `message` instead (e.g. "Loading..." or an error).
    void clearCloud(const QString& message = {});
    bool hasCloud() const noexcept { return m_cloud.polyData != nullptr; }
    const CloudPolyData& cloud() const noexcept { return m_cloud; }

    void setColorMode(ColorMode mode);
    ColorMode colorMode() const noexcept { return m_colorMode; }

    /// The colormap of the scalar modes (default turbo).
    void setColormap(Colormap map);
    Colormap colormap() const noexcept { return m_colormap; }
    /// Fixes the colour range of scalar `mode` to `range`, for this and every later cloud;
    /// nothing returns the mode to the automatic, per-cloud robust range.
    /// @throws InvalidArgument if `mode` is not a scalar mode, or the range is not finite
    ///         with min < max.
    void setFixedRange(ColorMode mode, std::optional<ColorRange> range);
    /// The fixed range of scalar `mode`, or nothing when it is automatic (or not scalar).
    std::optional<ColorRange> fixedRange(ColorMode mode) const;
    /// The range the current mode maps right now (fixed, else the cloud's robust range);
    /// nothing in the class modes, without a cloud, or when the cloud lacks the field.
    std::optional<ColorRange> activeRange() const;
    /// The colour bar of the scalar modes (for tests and screenshots; owned by the view). Its
    /// title is scalarModeName(); a note under it says whether the range is fixed.
    vtkScalarBarActor* colorBar() const noexcept;

    /// Point size in pixels, clamped to [1, 10]. Default 2.
    void setPointSize(double pixels);
    double pointSize() const noexcept { return m_pointSize; }

    void setTitle(const QString& title);
    /// Centred message drawn over the view (empty hides it).
    void setMessage(const QString& message);
    void setLegendVisible(bool visible);
    bool legendVisible() const noexcept { return m_legendVisible; }
    /// The x/y/z axis triad in the bottom-left corner (shown by default).
    void setAxisTriadVisible(bool visible);
    bool axisTriadVisible() const noexcept;

    /// Light background (near-white, dark text and panels) instead of the default dark one:
    /// for printed figures and slides, and for users who find white-on-black tiring.
    void setLightBackground(bool light);
    bool lightBackground() const noexcept { return m_light; }
    /// The centred message currently shown (empty when none).
    QString message() const;

    /// Puts the camera behind and above the sensor origin, looking forward (+x), and fits the
    /// cloud, in perspective. Repaints every viewport linked to this one.
    void resetCamera();

    /// Looks along a fixed direction at the cloud (the near field, within kFrameRadius of
    /// the sensor, for a scan) and fits it. Keeps the projection (perspective or
    /// orthographic). Repaints linked viewports.
    void setViewPreset(ViewPreset preset);
    /// Switches to an orthographic top-down bird's-eye view fitted to the cloud, remembering
    /// the current camera; called again (or whenever the camera is orthographic), returns
    /// to the remembered camera, or to resetCamera()'s view when there is none.
    void toggleBirdsEye();
    /// Whether the camera is orthographic (the bird's-eye view, or a preset taken from it).
    bool isBirdsEye() const;

    /// Picks the cloud point drawn at `pos` (as pickAt()) and makes it the centre of rotation: the
    /// camera moves parallel to its view direction so that the point lands in the middle of the
    /// view. This is what a double-click with the left button does.
    /// @return the picked point, or nothing (camera unchanged) when no point is near `pos`.
    std::optional<std::array<double, 3>> setRotationCentreAt(QPointF pos);

    /// The cloud point drawn at `pos` (widget coordinates; the front one where several are,
    /// else the nearest within 5 pixels) and its values, or nothing. A CPU pass over the
    /// points (pickDrawnPoint()): O(points) once per call, nothing per frame, so big clouds
    /// render as fast as without picking.
    std::optional<PickedPoint> pickAt(QPointF pos) const;

    /// Half-width of the area presets and the bird's-eye view frame around the sensor: a
    /// KITTI scan reaches 80 m, but its useful, dense part is the first 30 m.
    static constexpr double kFrameRadius = 30.0;

Q_SIGNALS:
    void pointSizeChanged(double pixels);
    /// A double-click made `(x, y, z)` the centre of rotation.
    void rotationCentreChanged(double x, double y, double z);
    /// A left click landed on `point` (pickAt()).
    void pointPicked(const lidistill::ui::PickedPoint& point);
    /// A left click landed on no point.
    void pickMissed();

protected:
    void resizeGL(int w, int h) override;
    void keyPressEvent(QKeyEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void applyColoring();
    void setColorBarVisible(bool visible);
    /// The id of the point drawn nearest to `pos`, or -1.
    vtkIdType pickIndex(QPointF pos) const;
    /// The cloud's bounds, cut to kFrameRadius around the sensor for a sensor-centred scan.
    std::array<double, 6> frameBounds() const;

    CloudPolyData m_cloud;
    vtkSmartPointer<vtkPolyDataMapper> m_mapper;
    vtkSmartPointer<vtkActor> m_actor;
    vtkSmartPointer<vtkScalarBarActor> m_legend;  // colour bar (height, intensity)
    vtkSmartPointer<vtkTextActor> m_rangeNote;    // under the bar: fixed or automatic range
    std::unique_ptr<ClassLegend> m_classLegend;   // class swatches (semantic mode)
    std::unique_ptr<AxisTriad> m_triad;
    vtkSmartPointer<vtkTextActor> m_title;
    vtkSmartPointer<vtkTextActor> m_message;
    ColorMode m_colorMode = ColorMode::Height;
    Colormap m_colormap = Colormap::Turbo;
    std::array<std::optional<ColorRange>, 3> m_fixedRanges;  // height, range, intensity
    std::optional<QPointF> m_pressPos;                       // left press, for click picks
    double m_pointSize = 2.0;
    bool m_legendVisible = true;
    bool m_cameraInitialised = false;
    bool m_light = false;
    std::optional<CameraState> m_beforeBirdsEye;  // what toggleBirdsEye() returns to
};

}  // namespace lidistill::ui
