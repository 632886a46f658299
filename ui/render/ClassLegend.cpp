// SPDX-License-Identifier: MIT
#include "ui/render/ClassLegend.h"

#include <vtkActor2D.h>
#include <vtkCellArray.h>
#include <vtkCellData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper2D.h>
#include <vtkProperty2D.h>
#include <vtkRenderer.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>

namespace lidistill::ui {
namespace {

void addQuad(vtkPoints* pts, vtkCellArray* cells, double x, double y, double w, double h) {
    const vtkIdType base = pts->GetNumberOfPoints();
    pts->InsertNextPoint(x, y, 0);
    pts->InsertNextPoint(x + w, y, 0);
    pts->InsertNextPoint(x + w, y + h, 0);
    pts->InsertNextPoint(x, y + h, 0);
    const vtkIdType ids[4] = {base, base + 1, base + 2, base + 3};
    cells->InsertNextCell(4, ids);
}

vtkSmartPointer<vtkActor2D> makeActor(vtkPolyData* data) {
    vtkNew<vtkPolyDataMapper2D> mapper;
    mapper->SetInputData(data);
    auto actor = vtkSmartPointer<vtkActor2D>::New();
    actor->SetMapper(mapper);
    return actor;
}

}  // namespace

ClassLegend::ClassLegend(vtkRenderer* renderer)
    : m_renderer(renderer),
      m_swatchData(vtkSmartPointer<vtkPolyData>::New()),
      m_panelData(vtkSmartPointer<vtkPolyData>::New()) {
    m_panel = makeActor(m_panelData);
    m_panel->GetProperty()->SetColor(0.06, 0.06, 0.08);
    m_panel->GetProperty()->SetOpacity(0.75);
    m_swatches = makeActor(m_swatchData);
    auto* swatchMapper = static_cast<vtkPolyDataMapper2D*>(m_swatches->GetMapper());
    swatchMapper->SetColorModeToDirectScalars();
    swatchMapper->SetScalarModeToUseCellData();
    m_renderer->AddViewProp(m_panel);
    m_renderer->AddViewProp(m_swatches);
}

ClassLegend::~ClassLegend() {
    m_renderer->RemoveViewProp(m_panel);
    m_renderer->RemoveViewProp(m_swatches);
    for (const auto& label : m_labels) {
        m_renderer->RemoveViewProp(label);
    }
}

void ClassLegend::setEntries(std::vector<std::pair<std::string, Rgb8>> entries) {
    m_entries = std::move(entries);
    while (m_labels.size() < m_entries.size()) {
        auto label = vtkSmartPointer<vtkTextActor>::New();
        vtkTextProperty* tp = label->GetTextProperty();
        tp->SetFontSize(12);
        const double fg = m_light ? 0.1 : 0.92;
        tp->SetColor(fg, fg, fg);
        tp->SetVerticalJustificationToBottom();
        m_renderer->AddViewProp(label);
        m_labels.push_back(label);
    }
    for (std::size_t i = 0; i < m_labels.size(); ++i) {
        m_labels[i]->SetInput(i < m_entries.size() ? m_entries[i].first.c_str() : "");
    }
    layout(m_width, m_height);
}

void ClassLegend::setLightTheme(bool light) {
    m_light = light;
    if (light) {
        m_panel->GetProperty()->SetColor(1.0, 1.0, 1.0);
    } else {
        m_panel->GetProperty()->SetColor(0.06, 0.06, 0.08);
    }
    const double fg = light ? 0.1 : 0.92;
    for (const auto& label : m_labels) {
        label->GetTextProperty()->SetColor(fg, fg, fg);
    }
}

void ClassLegend::setVisible(bool visible) {
    m_visible = visible;
    layout(m_width, m_height);
}

void ClassLegend::layout(int width, int height) {
    m_width = width;
    m_height = height;
    const bool show = m_visible && !m_entries.empty() && width > 0 && height > 0;
    m_panel->SetVisibility(show);
    m_swatches->SetVisibility(show);
    for (std::size_t i = 0; i < m_labels.size(); ++i) {
        m_labels[i]->SetVisibility(show && i < m_entries.size());
    }
    if (!show) {
        return;
    }
    // Display coordinates: origin bottom-left, in pixels; the panel hangs from the top right.
    const double top = height - 10.0;
    const double x0 = width - kPanelWidth - 10.0;
    const double panelHeight = 2.0 * kMargin + kEntryHeight * static_cast<double>(m_entries.size());

    vtkNew<vtkPoints> panelPts;
    vtkNew<vtkCellArray> panelCells;
    addQuad(panelPts, panelCells, x0, top - panelHeight, kPanelWidth, panelHeight);
    m_panelData->SetPoints(panelPts);
    m_panelData->SetPolys(panelCells);
    m_panelData->Modified();

    vtkNew<vtkPoints> pts;
    vtkNew<vtkCellArray> cells;
    vtkNew<vtkUnsignedCharArray> colors;
    colors->SetNumberOfComponents(3);
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        const double y = top - kMargin - kEntryHeight * static_cast<double>(i + 1);
        addQuad(pts, cells, x0 + kMargin, y + 3, 12, 12);
        const Rgb8 c = m_entries[i].second;
        const unsigned char rgb[3] = {c.r, c.g, c.b};
        colors->InsertNextTypedTuple(rgb);
        m_labels[i]->SetDisplayPosition(static_cast<int>(x0 + kMargin + 20),
                                        static_cast<int>(y + 3));
    }
    m_swatchData->SetPoints(pts);
    m_swatchData->SetPolys(cells);
    m_swatchData->GetCellData()->SetScalars(colors);
    m_swatchData->Modified();
}

}  // namespace lidistill::ui
