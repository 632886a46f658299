#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/CloudToVtk.h"
#include "ui/render/VtkViewport.h"

#include <QString>

#include <vtkSmartPointer.h>

#include <memory>

class vtkActor;
class vtkPolyDataMapper;
class vtkScalarBarActor;
class vtkTextActor;

namespace lidistill::ui {

class ClassLegend;

/// What the points are coloured by.
enum class ColorMode {
    Height,         ///< z, turbo colormap over the scan's robust range, with a colour bar
    Range,          ///< distance from the sensor, turbo colormap, with a colour bar
    Intensity,      ///< remission, turbo colormap, with a colour bar
    SemanticClass,  ///< official SemanticKITTI palette, with a legend of the classes present
    Instance,       ///< one colour per object instance (instanceColor()), the rest grey
};

/// A VtkViewport that shows one point cloud: point verts, unlit, with a colour bar or class
/// legend, a title in the top-left corner and a centred message when it has nothing to show.
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

    /// Point size in pixels, clamped to [1, 10]. Default 2.
    void setPointSize(double pixels);
    double pointSize() const noexcept { return m_pointSize; }

    void setTitle(const QString& title);
    /// Centred message drawn over the view (empty hides it).
    void setMessage(const QString& message);
    void setLegendVisible(bool visible);
    bool legendVisible() const noexcept { return m_legendVisible; }

    /// Puts the camera behind and above the sensor origin, looking forward (+x), and fits the
    /// cloud. Repaints every viewport linked to this one.
    void resetCamera();

Q_SIGNALS:
    void pointSizeChanged(double pixels);

protected:
    void resizeGL(int w, int h) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    void applyColoring();

    CloudPolyData m_cloud;
    vtkSmartPointer<vtkPolyDataMapper> m_mapper;
    vtkSmartPointer<vtkActor> m_actor;
    vtkSmartPointer<vtkScalarBarActor> m_legend;  // colour bar (height, intensity)
    std::unique_ptr<ClassLegend> m_classLegend;   // class swatches (semantic mode)
    vtkSmartPointer<vtkTextActor> m_title;
    vtkSmartPointer<vtkTextActor> m_message;
    ColorMode m_colorMode = ColorMode::Height;
    double m_pointSize = 2.0;
    bool m_legendVisible = true;
    bool m_cameraInitialised = false;
};

}  // namespace lidistill::ui
