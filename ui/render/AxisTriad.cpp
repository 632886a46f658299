// SPDX-License-Identifier: MIT
#include "ui/render/AxisTriad.h"

#include <vtkAxesActor.h>
#include <vtkCamera.h>
#include <vtkCaptionActor2D.h>
#include <vtkCommand.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>

#include <algorithm>

namespace lidistill::ui {

AxisTriad::AxisTriad(vtkRenderWindow* window, vtkRenderer* main)
    : m_window(window),
      m_main(main),
      m_renderer(vtkSmartPointer<vtkRenderer>::New()),
      m_axes(vtkSmartPointer<vtkAxesActor>::New()) {
    m_axes->SetShaftTypeToCylinder();
    m_axes->SetCylinderRadius(0.06);
    m_axes->SetConeRadius(0.5);
    m_axes->SetTotalLength(1.0, 1.0, 1.0);
    const double colours[3][3] = {{0.9, 0.1, 0.1}, {0.1, 0.8, 0.1}, {0.15, 0.3, 1.0}};
    vtkProperty* shafts[3] = {m_axes->GetXAxisShaftProperty(), m_axes->GetYAxisShaftProperty(),
                              m_axes->GetZAxisShaftProperty()};
    vtkProperty* tips[3] = {m_axes->GetXAxisTipProperty(), m_axes->GetYAxisTipProperty(),
                            m_axes->GetZAxisTipProperty()};
    for (int i = 0; i < 3; ++i) {
        // Mostly ambient: the axis colours stay recognisable from every side.
        for (vtkProperty* p : {shafts[i], tips[i]}) {
            p->SetColor(colours[i][0], colours[i][1], colours[i][2]);
            p->SetAmbient(0.6);
            p->SetDiffuse(0.5);
            p->SetSpecular(0.0);
        }
    }
    for (vtkCaptionActor2D* c : {m_axes->GetXAxisCaptionActor2D(), m_axes->GetYAxisCaptionActor2D(),
                                 m_axes->GetZAxisCaptionActor2D()}) {
        c->GetTextActor()->SetTextScaleModeToNone();
        vtkTextProperty* tp = c->GetCaptionTextProperty();
        tp->SetFontSize(13);
        tp->BoldOn();
        tp->ItalicOff();
        tp->ShadowOff();
    }
    setLabelColor(0.9, 0.9, 0.9);

    m_renderer->AddActor(m_axes);
    m_renderer->SetLayer(1);
    m_renderer->InteractiveOff();  // mouse events belong to the main renderer
    m_window->SetNumberOfLayers(std::max(2, m_window->GetNumberOfLayers()));
    m_window->AddRenderer(m_renderer);
    m_observer = m_main->AddObserver(vtkCommand::StartEvent, this, &AxisTriad::syncCamera);
    layout(400, 400);
}

AxisTriad::~AxisTriad() {
    m_main->RemoveObserver(m_observer);
    m_window->RemoveRenderer(m_renderer);
}

void AxisTriad::setVisible(bool visible) {
    m_visible = visible;
    m_renderer->SetDraw(visible ? 1 : 0);
}

void AxisTriad::setLabelColor(double r, double g, double b) {
    for (vtkCaptionActor2D* c : {m_axes->GetXAxisCaptionActor2D(), m_axes->GetYAxisCaptionActor2D(),
                                 m_axes->GetZAxisCaptionActor2D()}) {
        c->GetCaptionTextProperty()->SetColor(r, g, b);
    }
}

void AxisTriad::layout(int width, int height) {
    if (width <= 0 || height <= 0) return;
    m_renderer->SetViewport(0.0, 0.0, std::min(1.0, static_cast<double>(kSidePixels) / width),
                            std::min(1.0, static_cast<double>(kSidePixels) / height));
}

void AxisTriad::syncCamera(vtkObject*, unsigned long, void*) {
    vtkCamera* main = m_main->GetActiveCamera();
    double dop[3];
    double up[3];
    main->GetDirectionOfProjection(dop);
    main->GetViewUp(up);
    vtkCamera* cam = m_renderer->GetActiveCamera();
    // Look at the middle of the unit axes from a fixed distance along the main direction.
    constexpr double kDistance = 5.0;
    cam->SetFocalPoint(0.35, 0.35, 0.35);
    cam->SetPosition(0.35 - kDistance * dop[0], 0.35 - kDistance * dop[1],
                     0.35 - kDistance * dop[2]);
    cam->SetViewUp(up);
    cam->SetViewAngle(30.0);
    m_renderer->ResetCameraClippingRange();
}

}  // namespace lidistill::ui
