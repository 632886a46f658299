// SPDX-License-Identifier: MIT
#include "ui/render/PointPick.h"

#include "core/base/Error.h"
#include "core/base/PointCloud.h"
#include "ui/render/SemanticKittiPalette.h"

#include <QLocale>

#include <vtkDataArray.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>

#include <string>

namespace lidistill::ui {

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
