#pragma once
// SPDX-License-Identifier: MIT

#include <vtkSmartPointer.h>

class vtkAxesActor;
class vtkObject;
class vtkRenderer;
class vtkRenderWindow;

namespace lidistill::ui {

/// An x/y/z axis triad (red x, green y, blue z, as point_labeler and most viewers draw it)
/// in the bottom-left corner of a render window, turning with the main renderer's camera.
///
/// It is a second renderer on layer 1 with a small square viewport and its own camera, which
/// copies the main camera's direction and view-up when the main renderer starts a frame
/// (what vtkOrientationMarkerWidget does, without the InteractionWidgets module). It takes
/// no input events. GUI thread only, like the render window.
class AxisTriad {
public:
    /// Adds the triad to `window` (raising its layer count to 2), following `main`.
    AxisTriad(vtkRenderWindow* window, vtkRenderer* main);
    ~AxisTriad();
    AxisTriad(const AxisTriad&) = delete;
    AxisTriad& operator=(const AxisTriad&) = delete;

    void setVisible(bool visible);
    bool isVisible() const noexcept { return m_visible; }
    /// Colour of the X/Y/Z letters (light on dark backgrounds, dark on light ones).
    void setLabelColor(double r, double g, double b);
    /// Keeps the triad kSidePixels square for a window of `width` x `height` device pixels.
    void layout(int width, int height);

    static constexpr int kSidePixels = 96;

private:
    void syncCamera(vtkObject*, unsigned long, void*);

    vtkRenderWindow* m_window;
    vtkRenderer* m_main;
    vtkSmartPointer<vtkRenderer> m_renderer;
    vtkSmartPointer<vtkAxesActor> m_axes;
    unsigned long m_observer = 0;
    bool m_visible = true;
};

}  // namespace lidistill::ui
