// SPDX-License-Identifier: MIT
#include "ui/render/CloudToVtk.h"

#include "ui/render/ColorMaps.h"
#include "ui/render/SemanticKittiPalette.h"

#include <vtkCellArray.h>
#include <vtkFloatArray.h>
#include <vtkIdTypeArray.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkTypeUInt32Array.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

namespace lidistill::ui {

float quantile(std::vector<float> values, double q) {
    if (values.empty()) {
        return 0.f;
    }
    q = std::clamp(q, 0.0, 1.0);
    const auto k =
        static_cast<std::size_t>(std::lround(q * static_cast<double>(values.size() - 1)));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return values[k];
}

namespace {

std::array<double, 2> robustRange(const std::vector<float>& values) {
    double lo = quantile(values, 0.02);
    double hi = quantile(values, 0.98);
    if (!(hi > lo)) {  // constant field (or empty): widen so the lookup table stays valid
        hi = lo + 1.0;
    }
    return {lo, hi};
}

}  // namespace

CloudPolyData toPolyData(const PointCloud& cloud) {
    cloud.validate();
    const std::size_t n = cloud.size();
    const auto nId = static_cast<vtkIdType>(n);
    CloudPolyData out;
    out.pointCount = n;

    vtkNew<vtkFloatArray> coords;
    coords->SetNumberOfComponents(3);
    coords->SetNumberOfTuples(nId);
    static_assert(sizeof(Vec3f) == 3 * sizeof(float));
    if (n > 0) {
        std::memcpy(coords->GetPointer(0), cloud.xyz.data(), n * sizeof(Vec3f));
    }
    vtkNew<vtkPoints> points;
    points->SetData(coords);

    // One VTK_VERTEX per point, built in bulk (offsets 0..n, connectivity 0..n-1).
    vtkNew<vtkIdTypeArray> offsets;
    offsets->SetNumberOfValues(nId + 1);
    vtkNew<vtkIdTypeArray> connectivity;
    connectivity->SetNumberOfValues(nId);
    for (vtkIdType i = 0; i < nId; ++i) {
        offsets->SetValue(i, i);
        connectivity->SetValue(i, i);
    }
    offsets->SetValue(nId, nId);
    vtkNew<vtkCellArray> verts;
    verts->SetData(offsets, connectivity);

    auto poly = vtkSmartPointer<vtkPolyData>::New();
    poly->SetPoints(points);
    poly->SetVerts(verts);

    std::vector<float> heights(n);
    for (std::size_t i = 0; i < n; ++i) {
        heights[i] = cloud.xyz[i][2];
    }
    vtkNew<vtkFloatArray> height;
    height->SetName(kHeightArray);
    height->SetNumberOfValues(nId);
    std::copy(heights.begin(), heights.end(), height->GetPointer(0));
    poly->GetPointData()->AddArray(height);
    out.heightRange = robustRange(heights);

    // Reuses the heights buffer: the two arrays are never needed at the same time here.
    std::vector<float>& ranges = heights;
    for (std::size_t i = 0; i < n; ++i) {
        const Vec3f& p = cloud.xyz[i];
        ranges[i] = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    }
    vtkNew<vtkFloatArray> range;
    range->SetName(kRangeArray);
    range->SetNumberOfValues(nId);
    std::copy(ranges.begin(), ranges.end(), range->GetPointer(0));
    poly->GetPointData()->AddArray(range);
    out.rangeRange = robustRange(ranges);

    if (cloud.hasIntensity()) {
        vtkNew<vtkFloatArray> intensity;
        intensity->SetName(kIntensityArray);
        intensity->SetNumberOfValues(nId);
        std::copy(cloud.intensity.begin(), cloud.intensity.end(), intensity->GetPointer(0));
        poly->GetPointData()->AddArray(intensity);
        out.intensityRange = robustRange(cloud.intensity);
        out.hasIntensity = true;
    }

    if (cloud.hasLabels()) {
        vtkNew<vtkUnsignedCharArray> rgb;
        rgb->SetName(kLabelColorArray);
        rgb->SetNumberOfComponents(3);
        rgb->SetNumberOfTuples(nId);
        unsigned char* dst = rgb->GetPointer(0);
        std::map<std::uint16_t, std::size_t> counts;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint16_t cls = semanticClass(cloud.label[i]);
            const Rgb8 c = semanticKittiColor(cls);
            dst[3 * i + 0] = c.r;
            dst[3 * i + 1] = c.g;
            dst[3 * i + 2] = c.b;
            ++counts[cls];
        }
        poly->GetPointData()->AddArray(rgb);
        out.classCounts.assign(counts.begin(), counts.end());
        out.hasLabels = true;

        vtkNew<vtkUnsignedCharArray> instRgb;
        instRgb->SetName(kInstanceColorArray);
        instRgb->SetNumberOfComponents(3);
        instRgb->SetNumberOfTuples(nId);
        unsigned char* idst = instRgb->GetPointer(0);
        std::set<std::uint32_t> instances;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint32_t label = cloud.label[i];
            const Rgb8 c = instanceColor(label);
            idst[3 * i + 0] = c.r;
            idst[3 * i + 1] = c.g;
            idst[3 * i + 2] = c.b;
            if (instanceId(label) != 0) instances.insert(label);
        }
        poly->GetPointData()->AddArray(instRgb);
        out.instanceCount = instances.size();

        vtkNew<vtkTypeUInt32Array> raw;
        raw->SetName(kLabelArray);
        raw->SetNumberOfValues(nId);
        std::copy(cloud.label.begin(), cloud.label.end(), raw->GetPointer(0));
        poly->GetPointData()->AddArray(raw);
    }

    out.polyData = poly;
    return out;
}

}  // namespace lidistill::ui
