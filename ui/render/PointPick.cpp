// SPDX-License-Identifier: MIT
#include "ui/render/PointPick.h"

#include "core/base/Error.h"
#include "core/base/PointCloud.h"
#include "ui/render/SemanticKittiPalette.h"

#include <QLocale>

#include <vtkCamera.h>
#include <vtkDataArray.h>
#include <vtkFloatArray.h>
#include <vtkMatrix4x4.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkRenderer.h>

#include <cmath>
#include <limits>
#include <string>

namespace lidistill::ui {

std::int64_t pickDrawnPoint(vtkPolyData* poly, vtkRenderer* renderer, double x, double y,
                            double pointSizePx, double tolerancePx) {
    if (!poly || !renderer || poly->GetNumberOfPoints() == 0) {
        return -1;
    }
    const int* size = renderer->GetSize();
    const double* vp = renderer->GetViewport();
    const double width = size[0];
    const double height = size[1];
    if (width <= 0 || height <= 0) {
        return -1;
    }
    // World to normalised device coordinates; then to display pixels as VTK's ViewToDisplay.
    vtkMatrix4x4* m = renderer->GetActiveCamera()->GetCompositeProjectionTransformMatrix(
        renderer->GetTiledAspectRatio(), -1.0, 1.0);
    double e[4][4];
    for (int r = 0; r < 4; ++r) {
        for (int c = 0; c < 4; ++c) e[r][c] = m->GetElement(r, c);
    }
    const double winW = width / (vp[2] - vp[0]);
    const double winH = height / (vp[3] - vp[1]);
    const double x0 = winW * vp[0];
    const double y0 = winH * vp[1];
    const double cover = std::max(pointSizePx, 1.0) / 2.0 + 0.5;  // the drawn square, plus AA

    std::int64_t front = -1;  // covering the position, nearest the camera
    double frontDepth = std::numeric_limits<double>::infinity();
    std::int64_t nearest = -1;  // else nearest on screen
    double nearestDist2 = tolerancePx * tolerancePx;
    double nearestDepth = std::numeric_limits<double>::infinity();
    const auto visit = [&](std::int64_t i, double px, double py, double pz) {
        const double w = e[3][0] * px + e[3][1] * py + e[3][2] * pz + e[3][3];
        if (!(w > 0.0)) return;  // behind the camera
        const double z = (e[2][0] * px + e[2][1] * py + e[2][2] * pz + e[2][3]) / w;
        if (z < -1.0 || z > 1.0) return;  // clipped away, not drawn
        const double nx = (e[0][0] * px + e[0][1] * py + e[0][2] * pz + e[0][3]) / w;
        const double ny = (e[1][0] * px + e[1][1] * py + e[1][2] * pz + e[1][3]) / w;
        const double dx = x0 + (nx + 1.0) * width / 2.0 - x;
        const double dy = y0 + (ny + 1.0) * height / 2.0 - y;
        if (std::abs(dx) <= cover && std::abs(dy) <= cover && z < frontDepth) {
            front = i;
            frontDepth = z;
        }
        const double d2 = dx * dx + dy * dy;
        if (d2 < nearestDist2 || (d2 == nearestDist2 && z < nearestDepth)) {
            nearest = i;
            nearestDist2 = d2;
            nearestDepth = z;
        }
    };
    const vtkIdType n = poly->GetNumberOfPoints();
    if (auto* f = vtkFloatArray::SafeDownCast(poly->GetPoints()->GetData())) {
        const float* p = f->GetPointer(0);  // toPolyData() clouds: no virtual call a point
        for (vtkIdType i = 0; i < n; ++i) visit(i, p[3 * i], p[3 * i + 1], p[3 * i + 2]);
    } else {
        double p[3];
        for (vtkIdType i = 0; i < n; ++i) {
            poly->GetPoint(i, p);
            visit(i, p[0], p[1], p[2]);
        }
    }
    return front >= 0 ? front : nearest;
}

PickedPoint pointAt(const CloudPolyData& cloud, std::int64_t index) {
    if (!cloud.polyData || index < 0 || index >= cloud.polyData->GetNumberOfPoints()) {
        throw InvalidArgument("point " + std::to_string(index) + " is not in the cloud (" +
                              std::to_string(cloud.pointCount) + " points)");
    }
    const auto id = static_cast<vtkIdType>(index);
    PickedPoint p;
    p.index = index;
    cloud.polyData->GetPoint(id, p.xyz.data());
    vtkPointData* pd = cloud.polyData->GetPointData();
    if (vtkDataArray* r = pd->GetArray(kRangeArray)) {
        p.range = r->GetTuple1(id);
    }
    if (vtkDataArray* i = pd->GetArray(kIntensityArray)) {
        p.intensity = static_cast<float>(i->GetTuple1(id));
    }
    if (vtkDataArray* l = pd->GetArray(kLabelArray)) {
        p.label = static_cast<std::uint32_t>(l->GetTuple1(id));
    }
    return p;
}

QString describePoint(const PickedPoint& point) {
    const QLocale c = QLocale::c();
    const auto num = [](double v) { return QString::number(v, 'f', 2); };
    QString text =
        QStringLiteral("point %1: x %2  y %3  z %4 m | range %5 m")
            .arg(QLocale(QLocale::English).toString(static_cast<qlonglong>(point.index)),
                 num(point.xyz[0]), num(point.xyz[1]), num(point.xyz[2]), num(point.range));
    if (point.intensity) {
        // KITTI remission is 0-1, nuScenes intensity 0-255: three significant digits fit both.
        text += QStringLiteral(" | intensity %1").arg(c.toString(*point.intensity, 'g', 3));
    }
    if (point.label) {
        const std::uint16_t cls = semanticClass(*point.label);
        const std::string_view name = semanticKittiName(cls);
        text += name.empty()
                    ? QStringLiteral(" | class %1").arg(cls)
                    : QStringLiteral(" | %1 (class %2)")
                          .arg(QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size())))
                          .arg(cls);
        if (const std::uint16_t inst = instanceId(*point.label); inst != 0) {
            text += QStringLiteral(", instance %1").arg(inst);
        }
    }
    return text;
}

}  // namespace lidistill::ui
