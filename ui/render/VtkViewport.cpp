// SPDX-License-Identifier: MIT
#include "ui/render/VtkViewport.h"

#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLExtraFunctions>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <vtkCamera.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkOpenGLState.h>
#include <vtkRenderer.h>

namespace lidistill::ui {

QSurfaceFormat VtkViewport::surfaceFormat() {
    QSurfaceFormat fmt;
    fmt.setRenderableType(QSurfaceFormat::OpenGL);
    fmt.setVersion(3, 2);
    fmt.setProfile(QSurfaceFormat::CoreProfile);
    fmt.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
    fmt.setRedBufferSize(8);
    fmt.setGreenBufferSize(8);
    fmt.setBlueBufferSize(8);
    fmt.setAlphaBufferSize(8);
    fmt.setDepthBufferSize(24);
    fmt.setStencilBufferSize(8);
    fmt.setSamples(0);  // MSAA costs a lot on llvmpipe and VTK draws into its own FBOs anyway
    return fmt;
}

void VtkViewport::setDefaultSurfaceFormat() {
    QSurfaceFormat::setDefaultFormat(surfaceFormat());
}

VtkViewport::VtkViewport(QWidget* parent)
    : QOpenGLWidget(parent),
      m_renderWindow(vtkSmartPointer<vtkGenericOpenGLRenderWindow>::New()),
      m_interactor(vtkSmartPointer<vtkGenericRenderWindowInteractor>::New()),
      m_renderer(vtkSmartPointer<vtkRenderer>::New()) {
    setFormat(surfaceFormat());
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(false);
    setMinimumSize(64, 64);

    m_renderWindow->SetReadyForRendering(false);
    m_renderWindow->SetFrameBlitModeToNoBlit();
    m_renderWindow->SetMultiSamples(0);
    m_renderWindow->AddObserver(vtkCommand::WindowMakeCurrentEvent, this,
                                &VtkViewport::onVtkMakeCurrent);
    m_renderWindow->AddObserver(vtkCommand::WindowIsCurrentEvent, this,
                                &VtkViewport::onVtkIsCurrent);
    m_renderWindow->AddObserver(vtkCommand::WindowFrameEvent, this, &VtkViewport::onVtkFrame);

    m_renderer->SetBackground(0.11, 0.12, 0.14);
    m_renderWindow->AddRenderer(m_renderer);

    m_interactor->SetRenderWindow(m_renderWindow);
    // Rendering is driven by Qt's paint cycle: VTK only asks for one.
    m_interactor->EnableRenderOff();
    m_interactor->AddObserver(vtkCommand::RenderEvent, this, &VtkViewport::onInteractorRender);
    vtkNew<vtkInteractorStyleTrackballCamera> style;
    m_interactor->SetInteractorStyle(style);
    m_interactor->Initialize();
}

VtkViewport::~VtkViewport() {
    if (context()) {
        makeCurrent();
        cleanupGL();
        doneCurrent();
        // ~QOpenGLWidget destroys the context after this part of the object is gone.
        disconnect(context(), nullptr, this, nullptr);
    }
    m_interactor->RemoveObservers(vtkCommand::RenderEvent);
    m_renderWindow->RemoveObservers(vtkCommand::WindowMakeCurrentEvent);
    m_renderWindow->RemoveObservers(vtkCommand::WindowIsCurrentEvent);
    m_renderWindow->RemoveObservers(vtkCommand::WindowFrameEvent);
}

vtkGenericOpenGLRenderWindow* VtkViewport::renderWindow() const {
    return m_renderWindow;
}
vtkRenderer* VtkViewport::renderer() const {
    return m_renderer;
}

void VtkViewport::linkCamera(VtkViewport* other) {
    if (!other || other == this) {
        return;
    }
    // Merge the two groups, so that a chain A-B, B-C repaints all three on any interaction.
    QList<QPointer<VtkViewport>> group{this};
    for (const auto& v : m_linked) {
        if (v && !group.contains(v)) group.append(v);
    }
    if (!group.contains(other)) group.append(other);
    for (const auto& v : other->m_linked) {
        if (v && !group.contains(v)) group.append(v);
    }
    vtkCamera* camera = m_renderer->GetActiveCamera();
    for (const auto& v : group) {
        v->m_renderer->SetActiveCamera(camera);
        v->m_linked.clear();
        for (const auto& w : group) {
            if (w != v) v->m_linked.append(w);
        }
    }
    for (const auto& v : group) {
        v->update();
    }
}

void VtkViewport::updateLinked() {
    update();
    for (const auto& v : m_linked) {
        if (v) v->update();
    }
}

void VtkViewport::cleanupGL() {
    m_renderWindow->Finalize();
    m_renderWindow->SetReadyForRendering(false);
}

void VtkViewport::initializeGL() {
    connect(
        context(), &QOpenGLContext::aboutToBeDestroyed, this,
        [this] {
            makeCurrent();
            cleanupGL();
            doneCurrent();
        },
        Qt::DirectConnection);

    m_renderWindow->SetOwnContext(0);
    vtkOpenGLState* state = m_renderWindow->GetState();
    state->Reset();
    state->vtkglDepthFunc(GL_LEQUAL);  // Qt leaves GL_LESS, VTK expects LEQUAL
    m_renderWindow->SetReadyForRendering(true);
    m_renderWindow->OpenGLInitContext();
    // A fresh context (e.g. after reparenting) needs the size again.
    resizeGL(width(), height());
}

void VtkViewport::resizeGL(int w, int h) {
    const double dpr = devicePixelRatioF();
    const int pw = static_cast<int>(w * dpr);
    const int ph = static_cast<int>(h * dpr);
    m_interactor->UpdateSize(pw, ph);
    m_renderWindow->SetSize(pw, ph);
}

void VtkViewport::paintGL() {
    if (!m_renderWindow->GetReadyForRendering()) {
        return;
    }
    m_inPaint = true;
    vtkOpenGLState* state = m_renderWindow->GetState();
    state->Reset();
    state->Push();
    state->vtkglDepthFunc(GL_LEQUAL);
    // Linked views share a camera but not their bounds: clip each to its own content.
    m_renderer->ResetCameraClippingRange();
    m_renderWindow->Render();

    // VTK may have made the raw context current without Qt's FBO: rebind through Qt.
    makeCurrent();
    QOpenGLExtraFunctions* f = context()->extraFunctions();
    f->glBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
    const GLenum drawBuffer = GL_COLOR_ATTACHMENT0;
    f->glDrawBuffers(1, &drawBuffer);
    const int* size = m_renderWindow->GetSize();
    const double dpr = devicePixelRatioF();
    const int dw = static_cast<int>(width() * dpr);
    const int dh = static_cast<int>(height() * dpr);
    m_renderWindow->BlitDisplayFramebuffer(0, 0, 0, size[0], size[1], 0, 0, dw, dh,
                                           GL_COLOR_BUFFER_BIT, GL_LINEAR);
    // The widget is composed with alpha: force it opaque.
    f->glColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
    f->glClearColor(0.f, 0.f, 0.f, 1.f);
    f->glClear(GL_COLOR_BUFFER_BIT);
    f->glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    state->Pop();
    m_inPaint = false;
}

void VtkViewport::onVtkMakeCurrent(vtkObject*, unsigned long, void*) {
    // Never QOpenGLWidget::makeCurrent() here: it rebinds the widget's FBO while VTK is
    // building its own, which leaves VTK's textures attached to Qt's FBO (incomplete FBO).
    QOpenGLContext* ctx = context();
    if (ctx && QOpenGLContext::currentContext() != ctx) {
        ctx->makeCurrent(ctx->surface());
    }
}

void VtkViewport::onVtkIsCurrent(vtkObject*, unsigned long, void* callData) {
    *static_cast<bool*>(callData) = context() && QOpenGLContext::currentContext() == context();
}

void VtkViewport::onVtkFrame(vtkObject*, unsigned long, void*) {
    if (!m_inPaint) {
        update();
    }
}

void VtkViewport::onInteractorRender(vtkObject*, unsigned long, void*) {
    if (!m_inPaint) {
        updateLinked();
        Q_EMIT cameraInteracted();
    }
}

void VtkViewport::setEventPosition(const QPointF& pos, Qt::KeyboardModifiers modifiers) {
    const double dpr = devicePixelRatioF();
    m_interactor->SetEventInformationFlipY(
        static_cast<int>(pos.x() * dpr), static_cast<int>(pos.y() * dpr),
        (modifiers & Qt::ControlModifier) ? 1 : 0, (modifiers & Qt::ShiftModifier) ? 1 : 0);
    m_interactor->SetAltKey((modifiers & Qt::AltModifier) ? 1 : 0);
}

namespace {
unsigned long pressEventFor(Qt::MouseButton b) {
    switch (b) {
        case Qt::LeftButton:
            return vtkCommand::LeftButtonPressEvent;
        case Qt::MiddleButton:
            return vtkCommand::MiddleButtonPressEvent;
        case Qt::RightButton:
            return vtkCommand::RightButtonPressEvent;
        default:
            return vtkCommand::NoEvent;
    }
}
unsigned long releaseEventFor(Qt::MouseButton b) {
    switch (b) {
        case Qt::LeftButton:
            return vtkCommand::LeftButtonReleaseEvent;
        case Qt::MiddleButton:
            return vtkCommand::MiddleButtonReleaseEvent;
        case Qt::RightButton:
            return vtkCommand::RightButtonReleaseEvent;
        default:
            return vtkCommand::NoEvent;
    }
}
}  // namespace

void VtkViewport::mousePressEvent(QMouseEvent* event) {
    const unsigned long id = pressEventFor(event->button());
    if (id == vtkCommand::NoEvent) {
        return QOpenGLWidget::mousePressEvent(event);
    }
    setFocus(Qt::MouseFocusReason);
    setEventPosition(event->position(), event->modifiers());
    m_interactor->SetRepeatCount(0);
    m_interactor->InvokeEvent(id, nullptr);
    event->accept();
}

void VtkViewport::mouseDoubleClickEvent(QMouseEvent* event) {
    const unsigned long id = pressEventFor(event->button());
    if (id == vtkCommand::NoEvent) {
        return QOpenGLWidget::mouseDoubleClickEvent(event);
    }
    setEventPosition(event->position(), event->modifiers());
    m_interactor->SetRepeatCount(1);
    m_interactor->InvokeEvent(id, nullptr);
    event->accept();
}

void VtkViewport::mouseReleaseEvent(QMouseEvent* event) {
    const unsigned long id = releaseEventFor(event->button());
    if (id == vtkCommand::NoEvent) {
        return QOpenGLWidget::mouseReleaseEvent(event);
    }
    setEventPosition(event->position(), event->modifiers());
    m_interactor->InvokeEvent(id, nullptr);
    event->accept();
}

void VtkViewport::mouseMoveEvent(QMouseEvent* event) {
    setEventPosition(event->position(), event->modifiers());
    m_interactor->InvokeEvent(vtkCommand::MouseMoveEvent, nullptr);
    event->accept();
}

void VtkViewport::wheelEvent(QWheelEvent* event) {
    const int delta = event->angleDelta().y();
    if (delta == 0) {
        return QOpenGLWidget::wheelEvent(event);
    }
    setEventPosition(event->position(), event->modifiers());
    m_interactor->InvokeEvent(
        delta > 0 ? vtkCommand::MouseWheelForwardEvent : vtkCommand::MouseWheelBackwardEvent,
        nullptr);
    event->accept();
}

void VtkViewport::enterEvent(QEnterEvent* event) {
    setEventPosition(event->position(), Qt::NoModifier);
    m_interactor->InvokeEvent(vtkCommand::EnterEvent, nullptr);
    QOpenGLWidget::enterEvent(event);
}

void VtkViewport::leaveEvent(QEvent* event) {
    m_interactor->InvokeEvent(vtkCommand::LeaveEvent, nullptr);
    QOpenGLWidget::leaveEvent(event);
}

}  // namespace lidistill::ui
