#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/SemanticKittiPalette.h"

#include <vtkSmartPointer.h>

#include <string>
#include <utility>
#include <vector>

class vtkActor2D;
class vtkPolyData;
class vtkRenderer;
class vtkTextActor;

namespace lidistill::ui {

/// A categorical legend drawn by VTK in a renderer's top-right corner: a translucent panel
/// with one colour swatch and one light label per entry. (vtkLegendBoxActor tints each label
/// with its entry colour, which makes black "unlabeled" or dark "sidewalk" unreadable.)
/// GUI thread only, like the renderer it draws in.
class ClassLegend {
public:
    explicit ClassLegend(vtkRenderer* renderer);
    ~ClassLegend();
    ClassLegend(const ClassLegend&) = delete;
    ClassLegend& operator=(const ClassLegend&) = delete;

    void setEntries(std::vector<std::pair<std::string, Rgb8>> entries);
    void setVisible(bool visible);
    /// Light panel with dark labels (for a light background) instead of dark with light.
    void setLightTheme(bool light);
    /// Places the panel for a viewport of `width` x `height` device pixels.
    void layout(int width, int height);

    static constexpr int kEntryHeight = 18;
    static constexpr int kPanelWidth = 175;
    static constexpr int kMargin = 8;

private:
    vtkRenderer* m_renderer;
    std::vector<std::pair<std::string, Rgb8>> m_entries;
    std::vector<vtkSmartPointer<vtkTextActor>> m_labels;
    vtkSmartPointer<vtkPolyData> m_swatchData;
    vtkSmartPointer<vtkActor2D> m_swatches;
    vtkSmartPointer<vtkPolyData> m_panelData;
    vtkSmartPointer<vtkActor2D> m_panel;
    bool m_visible = true;
    bool m_light = false;
    int m_width = 0;
    int m_height = 0;
};

}  // namespace lidistill::ui
