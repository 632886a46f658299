// SPDX-License-Identifier: MIT
#include "ui/render/PointCloudView.h"

#include "core/base/Error.h"
#include "ui/render/AxisTriad.h"
#include "ui/render/ClassLegend.h"
#include "ui/render/ColorMaps.h"
#include "ui/render/SemanticKittiPalette.h"

#include <QKeyEvent>
#include <QMouseEvent>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkLookupTable.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkProperty2D.h>
#include <vtkRenderer.h>
#include <vtkScalarBarActor.h>
#include <vtkTextActor.h>
#include <vtkTextProperty.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace lidistill::ui {

namespace {
/// Index of a scalar mode in PointCloudView::m_fixedRanges.
std::size_t scalarIndex(ColorMode mode) {
    switch (mode) {
        case ColorMode::Height:
            return 0;
        case ColorMode::Range:
            return 1;
        case ColorMode::Intensity:
            return 2;
        default:
            throw InvalidArgument("only height, range and intensity have a colour range");
    }
}
/// How far (in pixels) the mouse may move between press and release for a click.
constexpr double kClickSlop = 3.0;
}  // namespace

QString scalarModeName(ColorMode mode) {
    switch (mode) {
        case ColorMode::Height:
            return QStringLiteral("height [m]");
        case ColorMode::Range:
            return QStringLiteral("range [m]");
        case ColorMode::Intensity:
            return QStringLiteral("intensity");
        default:
            return {};
    }
}

PointCloudView::PointCloudView(QWidget* parent)
    : VtkViewport(parent),
      m_mapper(vtkSmartPointer<vtkPolyDataMapper>::New()),
      m_actor(vtkSmartPointer<vtkActor>::New()),
      m_legend(vtkSmartPointer<vtkScalarBarActor>::New()),
      m_rangeNote(vtkSmartPointer<vtkTextActor>::New()),
      m_title(vtkSmartPointer<vtkTextActor>::New()),
      m_message(vtkSmartPointer<vtkTextActor>::New()) {
    m_actor->SetMapper(m_mapper);
    // Points carry no normals; unlit, their colour is exactly the palette colour.
    m_actor->GetProperty()->LightingOff();
    m_actor->GetProperty()->SetPointSize(m_pointSize);
    m_actor->GetProperty()->SetColor(0.85, 0.85, 0.85);
    m_actor->VisibilityOff();
    renderer()->AddActor(m_actor);

    m_legend->SetOrientationToVertical();
    m_legend->SetPosition(0.86, 0.08);
    m_legend->SetWidth(0.13);
    m_legend->SetHeight(0.84);
    m_legend->SetNumberOfLabels(5);
    m_legend->SetMaximumWidthInPixels(160);
    m_legend->SetBarRatio(0.25);
    m_legend->UnconstrainedFontSizeOn();
    for (vtkTextProperty* tp : {m_legend->GetTitleTextProperty(), m_legend->GetLabelTextProperty(),
                                m_legend->GetAnnotationTextProperty()}) {
        tp->SetFontSize(12);
        tp->SetColor(0.9, 0.9, 0.9);
        tp->ShadowOff();
        tp->BoldOff();
        tp->ItalicOff();
    }
    m_legend->GetTitleTextProperty()->SetFontSize(13);
    // A translucent panel keeps the labels readable over dense points.
    m_legend->DrawBackgroundOn();
    m_legend->GetBackgroundProperty()->SetColor(0.08, 0.08, 0.1);
    m_legend->GetBackgroundProperty()->SetOpacity(0.7);
    renderer()->AddViewProp(m_legend);
    // Where the bar's range comes from, under it: a fixed range compares frames, an
    // automatic one does not. (A second title line would overlap the bar's top label.)
    m_rangeNote->GetTextProperty()->SetFontSize(11);
    m_rangeNote->GetTextProperty()->SetColor(0.8, 0.8, 0.8);
    m_rangeNote->GetTextProperty()->SetJustificationToRight();
    m_rangeNote->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
    m_rangeNote->SetPosition(0.985, 0.025);
    renderer()->AddViewProp(m_rangeNote);
    setColorBarVisible(false);

    m_classLegend = std::make_unique<ClassLegend>(renderer());

    m_title->GetTextProperty()->SetFontSize(16);
    m_title->GetTextProperty()->BoldOn();
    m_title->GetTextProperty()->SetColor(0.95, 0.95, 0.95);
    m_title->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
    m_title->GetTextProperty()->SetVerticalJustificationToTop();
    m_title->SetPosition(0.015, 0.975);
    renderer()->AddViewProp(m_title);

    m_message->GetTextProperty()->SetFontSize(15);
    m_message->GetTextProperty()->SetColor(0.8, 0.8, 0.8);
    m_message->GetTextProperty()->SetJustificationToCentered();
    m_message->GetTextProperty()->SetVerticalJustificationToCentered();
    m_message->GetPositionCoordinate()->SetCoordinateSystemToNormalizedViewport();
    m_message->SetPosition(0.5, 0.5);
    renderer()->AddViewProp(m_message);

    m_triad = std::make_unique<AxisTriad>(renderWindow(), renderer());

    resetCamera();
}

PointCloudView::~PointCloudView() = default;

void PointCloudView::setCloud(CloudPolyData cloud) {
    m_cloud = std::move(cloud);
    m_mapper->SetInputData(m_cloud.polyData);
    m_actor->SetVisibility(m_cloud.polyData != nullptr);
    m_message->SetInput("");
    applyColoring();
    if (!m_cameraInitialised && m_cloud.pointCount > 0) {
        resetCamera();
        m_cameraInitialised = true;
    }
    updateLinked();
}

void PointCloudView::clearCloud(const QString& message) {
    m_cloud = CloudPolyData{};
    m_mapper->SetInputData(nullptr);
    m_actor->VisibilityOff();
    setColorBarVisible(false);
    m_classLegend->setVisible(false);
    setMessage(message);
}

void PointCloudView::setColorMode(ColorMode mode) {
    m_colorMode = mode;
    applyColoring();
    update();
}

void PointCloudView::setColormap(Colormap map) {
    m_colormap = map;
    applyColoring();
    update();
}

void PointCloudView::setFixedRange(ColorMode mode, std::optional<ColorRange> range) {
    const std::size_t i = scalarIndex(mode);
    if (range &&
        !(std::isfinite((*range)[0]) && std::isfinite((*range)[1]) && (*range)[0] < (*range)[1])) {
        throw InvalidArgument("a colour range needs finite values with min < max, not " +
                              std::to_string((*range)[0]) + ":" + std::to_string((*range)[1]));
    }
    m_fixedRanges[i] = range;
    applyColoring();
    update();
}

vtkScalarBarActor* PointCloudView::colorBar() const noexcept {
    return m_legend;
}

std::optional<ColorRange> PointCloudView::fixedRange(ColorMode mode) const {
    return isScalarMode(mode) ? m_fixedRanges[scalarIndex(mode)] : std::nullopt;
}

std::optional<ColorRange> PointCloudView::activeRange() const {
    if (!isScalarMode(m_colorMode) || !m_cloud.polyData) {
        return std::nullopt;
    }
    if (m_colorMode == ColorMode::Intensity && !m_cloud.hasIntensity) {
        return std::nullopt;
    }
    if (const auto& fixed = m_fixedRanges[scalarIndex(m_colorMode)]) {
        return fixed;
    }
    switch (m_colorMode) {
        case ColorMode::Range:
            return m_cloud.rangeRange;
        case ColorMode::Intensity:
            return m_cloud.intensityRange;
        default:
            return m_cloud.heightRange;
    }
}

void PointCloudView::setPointSize(double pixels) {
    const double clamped = std::clamp(pixels, 1.0, 10.0);
    if (clamped == m_pointSize) {
        return;
    }
    m_pointSize = clamped;
    m_actor->GetProperty()->SetPointSize(m_pointSize);
    update();
    Q_EMIT pointSizeChanged(m_pointSize);
}

void PointCloudView::setTitle(const QString& title) {
    m_title->SetInput(title.toUtf8().constData());
    update();
}

void PointCloudView::setMessage(const QString& message) {
    m_message->SetInput(message.toUtf8().constData());
    update();
}

QString PointCloudView::message() const {
    const char* text = m_message->GetInput();
    return text ? QString::fromUtf8(text) : QString();
}

void PointCloudView::setAxisTriadVisible(bool visible) {
    m_triad->setVisible(visible);
    update();
}

bool PointCloudView::axisTriadVisible() const noexcept {
    return m_triad->isVisible();
}

void PointCloudView::setLightBackground(bool light) {
    m_light = light;
    const double fg = light ? 0.1 : 0.95;  // text colour
    if (light) {
        renderer()->SetBackground(0.97, 0.97, 0.96);
    } else {
        renderer()->SetBackground(0.11, 0.12, 0.14);
    }
    m_title->GetTextProperty()->SetColor(fg, fg, fg);
    const double msg = light ? 0.3 : 0.8;
    m_message->GetTextProperty()->SetColor(msg, msg, msg);
    for (vtkTextProperty* tp : {m_legend->GetTitleTextProperty(), m_legend->GetLabelTextProperty(),
                                m_legend->GetAnnotationTextProperty()}) {
        tp->SetColor(light ? 0.1 : 0.9, light ? 0.1 : 0.9, light ? 0.1 : 0.9);
    }
    const double note = light ? 0.25 : 0.8;
    m_rangeNote->GetTextProperty()->SetColor(note, note, note);
    const double panel = light ? 1.0 : 0.08;
    m_legend->GetBackgroundProperty()->SetColor(panel, panel, light ? 1.0 : 0.1);
    m_classLegend->setLightTheme(light);
    m_triad->setLabelColor(fg, fg, fg);
    // Uncoloured points (a cloud without the chosen field) must stand out from either.
    const double plain = light ? 0.3 : 0.85;
    m_actor->GetProperty()->SetColor(plain, plain, plain);
    update();
}

void PointCloudView::setLegendVisible(bool visible) {
    m_legendVisible = visible;
    applyColoring();
    update();
}

void PointCloudView::applyColoring() {
    if (!m_cloud.polyData) {
        setColorBarVisible(false);
        m_classLegend->setVisible(false);
        return;
    }
    const bool wantsIntensity = m_colorMode == ColorMode::Intensity;
    const bool wantsLabels = m_colorMode == ColorMode::SemanticClass;
    const bool wantsInstances = m_colorMode == ColorMode::Instance;
    if ((wantsIntensity && !m_cloud.hasIntensity) ||
        ((wantsLabels || wantsInstances) && !m_cloud.hasLabels)) {
        // The cloud lacks the field: draw it plain rather than with a misleading colour bar.
        m_mapper->ScalarVisibilityOff();
        setColorBarVisible(false);
        m_classLegend->setVisible(false);
        return;
    }
    m_mapper->ScalarVisibilityOn();
    m_mapper->SetScalarModeToUsePointFieldData();

    if (wantsLabels) {
        m_mapper->SelectColorArray(kLabelColorArray);
        m_mapper->SetColorModeToDirectScalars();
        std::vector<std::pair<std::string, Rgb8>> entries;
        for (const auto& [cls, count] : m_cloud.classCounts) {
            std::string name(semanticKittiName(cls));
            entries.emplace_back(name.empty() ? "class " + std::to_string(cls) : name,
                                 semanticKittiColor(cls));
        }
        m_classLegend->setEntries(std::move(entries));
        setColorBarVisible(false);
        m_classLegend->setVisible(m_legendVisible);
        return;
    }
    if (wantsInstances) {
        // Instance colours are arbitrary: a legend of ids would say nothing.
        m_mapper->SelectColorArray(kInstanceColorArray);
        m_mapper->SetColorModeToDirectScalars();
        setColorBarVisible(false);
        m_classLegend->setVisible(false);
        return;
    }

    m_classLegend->setVisible(false);
    const char* array = wantsIntensity                    ? kIntensityArray
                        : m_colorMode == ColorMode::Range ? kRangeArray
                                                          : kHeightArray;
    QString title = scalarModeName(m_colorMode);
    const ColorRange range = *activeRange();
    m_rangeNote->SetInput(m_fixedRanges[scalarIndex(m_colorMode)] ? "fixed range"
                                                                  : "range: 2-98 % of this cloud");
    auto lut = makeLookupTable(m_colormap, range[0], range[1]);
    m_mapper->SelectColorArray(array);
    m_mapper->SetColorModeToMapScalars();
    m_mapper->SetLookupTable(lut);
    m_mapper->UseLookupTableScalarRangeOff();
    m_mapper->SetScalarRange(range[0], range[1]);
    m_legend->SetLookupTable(lut);
    m_legend->SetTitle(title.toUtf8().constData());
    m_legend->DrawAnnotationsOff();
    setColorBarVisible(m_legendVisible);
}

void PointCloudView::setColorBarVisible(bool visible) {
    m_legend->SetVisibility(visible);
    m_rangeNote->SetVisibility(visible);
}

void PointCloudView::resetCamera() {
    m_beforeBirdsEye.reset();
    vtkCamera* camera = renderer()->GetActiveCamera();
    camera->ParallelProjectionOff();
    camera->SetViewAngle(40.0);
    camera->SetViewUp(0.0, 0.0, 1.0);
    double bounds[6] = {-1, 1, -1, 1, -1, 1};
    if (m_cloud.polyData && m_cloud.pointCount > 0) {
        m_cloud.polyData->GetBounds(bounds);
    }
    const bool sensorCentred = bounds[0] <= 0 && bounds[1] >= 0 && bounds[2] <= 0 && bounds[3] >= 0;
    if (sensorCentred) {
        // A LiDAR scan (KITTI: x forward, z up): a chase view from behind and above the
        // sensor, framing the dense near field rather than the sparse 80 m extent.
        camera->SetFocalPoint(8.0, 0.0, -1.5);
        camera->SetPosition(-28.0, 0.0, 26.0);
    } else {
        // Anything else (a map tile, a mesh export): the same direction, fitted to bounds.
        camera->SetFocalPoint(0.0, 0.0, 0.0);
        camera->SetPosition(-28.0, 0.0, 21.5);
        renderer()->ResetCamera(bounds);
    }
    renderer()->ResetCameraClippingRange();
    updateLinked();
}

std::array<double, 6> PointCloudView::frameBounds() const {
    std::array<double, 6> b{-1, 1, -1, 1, -1, 1};
    if (m_cloud.polyData && m_cloud.pointCount > 0) {
        m_cloud.polyData->GetBounds(b.data());
    }
    const bool sensorCentred = b[0] <= 0 && b[1] >= 0 && b[2] <= 0 && b[3] >= 0;
    if (sensorCentred) {
        for (int i = 0; i < 4; ++i) {
            b[i] = std::clamp(b[i], -kFrameRadius, kFrameRadius);
        }
    }
    return b;
}

void PointCloudView::setViewPreset(ViewPreset preset) {
    // Direction of projection and view-up of each preset; "right" = direction x up.
    std::array<double, 3> dir{1, 0, 0};
    std::array<double, 3> up{0, 0, 1};
    switch (preset) {
        case ViewPreset::Front:
            break;
        case ViewPreset::Side:
            dir = {0, 1, 0};
            break;
        case ViewPreset::Top:
            dir = {0, 0, -1};
            up = {1, 0, 0};
            break;
    }
    const std::array<double, 3> right{dir[1] * up[2] - dir[2] * up[1],
                                      dir[2] * up[0] - dir[0] * up[2],
                                      dir[0] * up[1] - dir[1] * up[0]};
    const auto b = frameBounds();
    const std::array<double, 3> centre{(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2};
    vtkCamera* camera = renderer()->GetActiveCamera();
    camera->SetFocalPoint(centre.data());
    camera->SetPosition(centre[0] - dir[0], centre[1] - dir[1], centre[2] - dir[2]);
    camera->SetViewUp(up.data());
    renderer()->ResetCamera(b.data());  // keeps the direction, fits the distance
    if (camera->GetParallelProjection()) {
        // ResetCamera fits the bounding sphere; an axis-aligned view can fit the box itself.
        auto extentAlong = [&b](const std::array<double, 3>& axis) {
            return std::abs(axis[0]) * (b[1] - b[0]) + std::abs(axis[1]) * (b[3] - b[2]) +
                   std::abs(axis[2]) * (b[5] - b[4]);
        };
        const int* size = renderWindow()->GetSize();
        const double aspect = size[1] > 0 ? static_cast<double>(size[0]) / size[1] : 1.0;
        const double half = 0.5 * std::max(extentAlong(up), extentAlong(right) / aspect);
        camera->SetParallelScale(std::max(half, 0.5) * 1.05);
    }
    renderer()->ResetCameraClippingRange();
    updateLinked();
}

bool PointCloudView::isBirdsEye() const {
    return renderer()->GetActiveCamera()->GetParallelProjection() != 0;
}

void PointCloudView::toggleBirdsEye() {
    vtkCamera* camera = renderer()->GetActiveCamera();
    if (isBirdsEye()) {
        if (m_beforeBirdsEye) {
            applyCamera(camera, *m_beforeBirdsEye);
            m_beforeBirdsEye.reset();
            renderer()->ResetCameraClippingRange();
            updateLinked();
        } else {
            resetCamera();
        }
        return;
    }
    m_beforeBirdsEye = captureCamera(camera);
    camera->ParallelProjectionOn();
    setViewPreset(ViewPreset::Top);
}

vtkIdType PointCloudView::pickIndex(QPointF pos) const {
    if (!m_cloud.polyData || m_cloud.pointCount == 0 || !m_actor->GetVisibility()) {
        return -1;
    }
    const double dpr = devicePixelRatioF();
    const int* size = renderWindow()->GetSize();
    // VTK display coordinates: pixels, origin bottom-left (as the interactor's FlipY).
    const double x = pos.x() * dpr;
    const double y = size[1] - pos.y() * dpr - 1.0;
    // A CPU pass that projects every point with the camera: no GPU read-back, so it works
    // the same on llvmpipe and needs no render first. O(points), once per click.
    return pickDrawnPoint(m_cloud.polyData, renderer(), x, y, m_pointSize, 5.0 * dpr);
}

std::optional<PickedPoint> PointCloudView::pickAt(QPointF pos) const {
    const vtkIdType id = pickIndex(pos);
    if (id < 0) {
        return std::nullopt;
    }
    return pointAt(m_cloud, id);
}

std::optional<std::array<double, 3>> PointCloudView::setRotationCentreAt(QPointF pos) {
    const vtkIdType id = pickIndex(pos);
    if (id < 0) {
        return std::nullopt;
    }
    std::array<double, 3> p{};
    m_cloud.polyData->GetPoint(id, p.data());
    vtkCamera* camera = renderer()->GetActiveCamera();
    double focal[3];
    double position[3];
    camera->GetFocalPoint(focal);
    camera->GetPosition(position);
    camera->SetFocalPoint(p.data());
    camera->SetPosition(position[0] + p[0] - focal[0], position[1] + p[1] - focal[1],
                        position[2] + p[2] - focal[2]);
    renderer()->ResetCameraClippingRange();
    updateLinked();
    Q_EMIT rotationCentreChanged(p[0], p[1], p[2]);
    return p;
}

void PointCloudView::mouseDoubleClickEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton && setRotationCentreAt(event->position())) {
        event->accept();
        return;
    }
    VtkViewport::mouseDoubleClickEvent(event);
}

void PointCloudView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        m_pressPos = event->position();
    }
    VtkViewport::mousePressEvent(event);
}

void PointCloudView::mouseReleaseEvent(QMouseEvent* event) {
    VtkViewport::mouseReleaseEvent(event);
    if (event->button() != Qt::LeftButton || !m_pressPos) {
        return;
    }
    const QPointF moved = event->position() - *m_pressPos;
    m_pressPos.reset();
    if (std::abs(moved.x()) + std::abs(moved.y()) > kClickSlop) {
        return;  // a drag (orbit), not a click
    }
    if (const auto picked = pickAt(event->position())) {
        Q_EMIT pointPicked(*picked);
    } else {
        Q_EMIT pickMissed();
    }
}

void PointCloudView::resizeGL(int w, int h) {
    VtkViewport::resizeGL(w, h);
    const int* size = renderWindow()->GetSize();
    m_classLegend->layout(size[0], size[1]);
    m_triad->layout(size[0], size[1]);
}

void PointCloudView::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
        case Qt::Key_R:
            resetCamera();
            break;
        case Qt::Key_Plus:
        case Qt::Key_Equal:
            setPointSize(m_pointSize + 1.0);
            break;
        case Qt::Key_Minus:
            setPointSize(m_pointSize - 1.0);
            break;
        default:
            VtkViewport::keyPressEvent(event);
            return;
    }
    event->accept();
}

}  // namespace lidistill::ui
