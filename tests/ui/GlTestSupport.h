#pragma once
// SPDX-License-Identifier: MIT
// Helpers shared by the studio's GL tests: skip cleanly without GL, read pixels.

#include "ui/render/VtkViewport.h"

#include <QDir>
#include <QGuiApplication>
#include <QImage>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QString>
#include <QTest>

#include <cstdlib>
#include <filesystem>

namespace lidistill::test {

/// Why GL tests cannot run here, or an empty string if they can: the offscreen platform
/// crashes QOpenGLWidget, and without a display (or GLX) no context can be made.
inline QString glUnavailableReason() {
    if (QGuiApplication::platformName() != QLatin1String("xcb")) {
        return QStringLiteral("GL tests need the xcb platform (run under xvfb-run), not ") +
               QGuiApplication::platformName();
    }
    QOpenGLContext ctx;
    ctx.setFormat(ui::VtkViewport::surfaceFormat());
    if (!ctx.create()) {
        return QStringLiteral("no OpenGL 3.2 core context can be created");
    }
    QOffscreenSurface surface;
    surface.setFormat(ctx.format());
    surface.create();
    if (!ctx.makeCurrent(&surface)) {
        return QStringLiteral("the OpenGL context cannot be made current");
    }
    ctx.doneCurrent();
    return {};
}

#define LIDISTILL_REQUIRE_GL()                                        \
    do {                                                              \
        const QString why = ::lidistill::test::glUnavailableReason(); \
        if (!why.isEmpty()) QSKIP(qPrintable(why));                   \
    } while (0)

inline std::filesystem::path sharedData() {
    const char* v = std::getenv("LIDISTILL_SHARED_DATA");
    return std::filesystem::path(v && *v ? v : "../shared/data");
}
inline std::filesystem::path semanticKittiSeq00() {
    return sharedData() / "semantickitti-mini" / "sequences" / "00";
}

/// Share of pixels in `rect` whose colour differs from `background` by more than `tol`
/// in any channel.
inline double litShare(const QImage& img, QColor background, int tol = 8, QRect rect = {}) {
    if (rect.isNull()) rect = img.rect();
    long lit = 0;
    long total = 0;
    for (int y = rect.top(); y <= rect.bottom(); ++y) {
        for (int x = rect.left(); x <= rect.right(); ++x) {
            const QColor c = img.pixelColor(x, y);
            ++total;
            if (std::abs(c.red() - background.red()) > tol ||
                std::abs(c.green() - background.green()) > tol ||
                std::abs(c.blue() - background.blue()) > tol) {
                ++lit;
            }
        }
    }
    return total ? static_cast<double>(lit) / static_cast<double>(total) : 0.0;
}

/// Writes a failing test's image beside the test binary and returns the path, for the log.
inline QString saveForInspection(const QImage& img, const QString& name) {
    const QString path = QStringLiteral("%1/%2.png").arg(QDir::tempPath(), name);
    img.save(path);
    return path;
}

}  // namespace lidistill::test
