#pragma once
// SPDX-License-Identifier: MIT

#include <QList>
#include <QOpenGLWidget>
#include <QPointer>

#include <vtkNew.h>
#include <vtkSmartPointer.h>

class vtkGenericOpenGLRenderWindow;
class vtkGenericRenderWindowInteractor;
class vtkRenderer;
class vtkObject;

namespace lidistill::ui {

/// A QOpenGLWidget that hosts a VTK render window, without VTK's Qt module (which Debian
/// builds against Qt5 only).
///
/// VTK renders into its own framebuffers inside this widget's GL context; paintGL() blits
/// VTK's display framebuffer into the widget's. Mouse and wheel events drive a
/// vtkInteractorStyleTrackballCamera (left drag orbits, middle or shift+left pans, wheel or
/// right drag zooms). Keys are NOT forwarded to VTK, whose default key bindings (q/e exit,
/// 3 stereo, w wireframe) make no sense here; owners bind keys with Qt.
///
/// Needs a GLX-backed xcb platform (a real X display or Xvfb); the `offscreen` QPA cannot
/// host a QOpenGLWidget. Call setDefaultSurfaceFormat() before constructing QApplication.
/// GUI thread only, like every widget.
class VtkViewport : public QOpenGLWidget {
    Q_OBJECT

public:
    explicit VtkViewport(QWidget* parent = nullptr);
    ~VtkViewport() override;

    /// The surface format VTK needs: OpenGL 3.2 core, depth 24, stencil 8, alpha 8, no MSAA.
    static QSurfaceFormat surfaceFormat();
    /// Installs surfaceFormat() as QSurfaceFormat's default. Call before QApplication exists.
    static void setDefaultSurfaceFormat();

    vtkGenericOpenGLRenderWindow* renderWindow() const;
    /// The one renderer this viewport draws (owned; background dark grey).
    vtkRenderer* renderer() const;

    /// Makes this viewport draw through `other`'s camera, and repaints each of the two
    /// whenever the other one is interacted with. Links are symmetric and may chain.
    void linkCamera(VtkViewport* other);

    /// Schedules a repaint (VTK render + blit) of this viewport and every linked one.
    /// Cheap to call repeatedly; needed after changing the shared camera from code.
    void updateLinked();

Q_SIGNALS:
    /// The user moved the camera with the mouse (emitted after VTK asks for a render).
    void cameraInteracted();

protected:
    void initializeGL() override;
    void resizeGL(int w, int h) override;
    void paintGL() override;

    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void enterEvent(QEnterEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    void cleanupGL();
    void onVtkMakeCurrent(vtkObject*, unsigned long, void*);
    void onVtkIsCurrent(vtkObject*, unsigned long, void* callData);
    void onVtkFrame(vtkObject*, unsigned long, void*);
    void onInteractorRender(vtkObject*, unsigned long, void*);
    void setEventPosition(const QPointF& pos, Qt::KeyboardModifiers modifiers);

    vtkSmartPointer<vtkGenericOpenGLRenderWindow> m_renderWindow;
    vtkSmartPointer<vtkGenericRenderWindowInteractor> m_interactor;
    vtkSmartPointer<vtkRenderer> m_renderer;
    QList<QPointer<VtkViewport>> m_linked;  // viewports sharing this one's camera
    bool m_inPaint = false;
};

}  // namespace lidistill::ui
