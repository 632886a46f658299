// SPDX-License-Identifier: MIT
#include "ui/render/CameraState.h"

#include "core/base/Error.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <vtkCamera.h>

#include <cmath>
#include <string>

namespace lidistill::ui {

namespace {

constexpr const char* kFormat = "lidistill-camera";

QJsonArray toArray(const std::array<double, 3>& v) {
    return QJsonArray{v[0], v[1], v[2]};
}

[[noreturn]] void fail(const std::string& problem) {
    throw InvalidArgument("camera JSON: " + problem);
}

std::array<double, 3> vec3(const QJsonObject& o, const char* key) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined()) fail(std::string("missing \"") + key + "\"");
    const QJsonArray a = v.toArray();
    if (!v.isArray() || a.size() != 3)
        fail(std::string("\"") + key + "\" is not an array of 3 numbers");
    std::array<double, 3> out{};
    for (int i = 0; i < 3; ++i) {
        if (!a[i].isDouble() || !std::isfinite(a[i].toDouble())) {
            fail(std::string("\"") + key + "\" holds a value that is not a finite number");
        }
        out[static_cast<std::size_t>(i)] = a[i].toDouble();
    }
    return out;
}

double number(const QJsonObject& o, const char* key, double fallback) {
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined()) return fallback;
    if (!v.isDouble() || !std::isfinite(v.toDouble())) {
        fail(std::string("\"") + key + "\" is not a finite number");
    }
    return v.toDouble();
}

}  // namespace

CameraState captureCamera(vtkCamera* camera) {
    CameraState s;
    camera->GetPosition(s.position.data());
    camera->GetFocalPoint(s.focalPoint.data());
    camera->GetViewUp(s.viewUp.data());
    s.viewAngle = camera->GetViewAngle();
    s.parallelScale = camera->GetParallelScale();
    s.parallelProjection = camera->GetParallelProjection() != 0;
    return s;
}

void applyCamera(vtkCamera* camera, const CameraState& s) {
    camera->SetFocalPoint(s.focalPoint.data());
    camera->SetPosition(s.position.data());
    camera->SetViewUp(s.viewUp.data());
    camera->SetViewAngle(s.viewAngle);
    camera->SetParallelScale(s.parallelScale);
    // No OrthogonalizeViewUp(): VTK copes with a slanted view-up, and keeping it as given
    // makes capture -> apply an exact round trip.
    camera->SetParallelProjection(s.parallelProjection ? 1 : 0);
}

QString cameraToJson(const CameraState& s) {
    QJsonObject o;
    o.insert("format", kFormat);
    o.insert("version", 1);
    o.insert("position", toArray(s.position));
    o.insert("focal_point", toArray(s.focalPoint));
    o.insert("view_up", toArray(s.viewUp));
    o.insert("view_angle", s.viewAngle);
    o.insert("parallel_scale", s.parallelScale);
    o.insert("parallel_projection", s.parallelProjection);
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Indented));
}

CameraState cameraFromJson(const QString& text) {
    QJsonParseError error{};
    const QJsonDocument doc = QJsonDocument::fromJson(text.trimmed().toUtf8(), &error);
    if (error.error != QJsonParseError::NoError) {
        fail("not valid JSON (" + error.errorString().toStdString() + " at offset " +
             std::to_string(error.offset) + ")");
    }
    if (!doc.isObject()) fail("expected an object");
    const QJsonObject o = doc.object();
    const QJsonValue format = o.value("format");
    if (!format.isUndefined() && format.toString() != QLatin1String(kFormat)) {
        fail("unknown format \"" + format.toString().toStdString() + "\"");
    }
    if (o.contains("version") && number(o, "version", 1) > 1) {
        fail("version " + std::to_string(o.value("version").toInt()) +
             " is newer than this studio");
    }
    CameraState s;
    s.position = vec3(o, "position");
    s.focalPoint = vec3(o, "focal_point");
    s.viewUp = vec3(o, "view_up");
    s.viewAngle = number(o, "view_angle", s.viewAngle);
    s.parallelScale = number(o, "parallel_scale", s.parallelScale);
    const QJsonValue parallel = o.value("parallel_projection");
    if (!parallel.isUndefined()) {
        if (!parallel.isBool()) fail("\"parallel_projection\" is not true or false");
        s.parallelProjection = parallel.toBool();
    }

    const std::array<double, 3> d{s.focalPoint[0] - s.position[0], s.focalPoint[1] - s.position[1],
                                  s.focalPoint[2] - s.position[2]};
    const double dn = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (!(dn > 1e-9)) fail("position and focal_point coincide");
    const auto& u = s.viewUp;
    const double un = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    if (!(un > 1e-9)) fail("view_up is a zero vector");
    // |d x u| / (|d||u|) = sin of the angle between them.
    const double cx = d[1] * u[2] - d[2] * u[1];
    const double cy = d[2] * u[0] - d[0] * u[2];
    const double cz = d[0] * u[1] - d[1] * u[0];
    if (std::sqrt(cx * cx + cy * cy + cz * cz) / (dn * un) < 1e-6) {
        fail("view_up is parallel to the view direction");
    }
    if (!(s.viewAngle > 0.0 && s.viewAngle < 180.0)) fail("view_angle must be in (0, 180) degrees");
    if (!(s.parallelScale > 0.0)) fail("parallel_scale must be positive");
    return s;
}

}  // namespace lidistill::ui
