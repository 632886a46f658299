#pragma once
// SPDX-License-Identifier: MIT

#include "ui/render/CameraState.h"

#include <QDateTime>
#include <QImage>
#include <QString>

namespace lidistill::ui {

/// Where P puts screenshots: the user's Pictures folder, or the home folder when the
/// desktop has none. Thread-safe.
QString defaultScreenshotFolder();

/// A file name in `folder` that does not exist yet: `lidistill-YYYYMMDD-HHMMSS.png` from
/// `when`, with `-2`, `-3`, ... appended when several shots fall in one second.
/// Thread-safe (reads the folder only).
QString nextScreenshotPath(const QString& folder, const QDateTime& when);

/// Writes `image` as PNG to `file` and, when `camera` is given, the camera that made it as
/// JSON (cameraToJson()) beside it, `<file without .png>.camera.json`, so the view can be
/// restored with Ctrl+V. Both go through a temporary file and a rename (QSaveFile): a failed
/// write leaves no half-written file. Creates missing parent folders.
/// @throws IoError naming the file and the reason when either cannot be written.
/// Thread-safe for distinct files.
void saveScreenshot(const QImage& image, const QString& file, const CameraState* camera = nullptr);

/// The camera JSON file saveScreenshot() writes beside `pngFile`.
QString cameraFileFor(const QString& pngFile);

}  // namespace lidistill::ui
