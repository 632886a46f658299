// SPDX-License-Identifier: MIT
#include "ui/app/ViewCapture.h"

#include "core/base/Error.h"

#include <QBuffer>
#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

namespace lidistill::ui {

namespace {

void writeAtomically(const QString& file, const QByteArray& bytes) {
    const auto path = std::filesystem::path(file.toStdString());
    const QFileInfo info(file);
    if (!QDir().mkpath(info.absolutePath())) {
        throw IoError(path, "cannot create the folder " + info.absolutePath().toStdString());
    }
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly)) {
        throw IoError(path, "cannot open for writing: " + out.errorString().toStdString());
    }
    if (out.write(bytes) != bytes.size()) {
        const std::string why = out.errorString().toStdString();
        out.cancelWriting();
        throw IoError(path, "write failed: " + why);
    }
    if (!out.commit()) {
        throw IoError(path, "cannot replace the file: " + out.errorString().toStdString());
    }
}

}  // namespace

QString defaultScreenshotFolder() {
    QString dir = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    if (dir.isEmpty()) dir = QDir::homePath();
    return dir;
}

QString nextScreenshotPath(const QString& folder, const QDateTime& when) {
    const QString stem =
        QStringLiteral("lidistill-%1").arg(when.toString(QStringLiteral("yyyyMMdd-HHmmss")));
    const QDir dir(folder);
    QString name = stem + QStringLiteral(".png");
    for (int k = 2; QFileInfo::exists(dir.filePath(name)); ++k) {
        name = QStringLiteral("%1-%2.png").arg(stem).arg(k);
    }
    return dir.filePath(name);
}

QString cameraFileFor(const QString& pngFile) {
    QString base = pngFile;
    if (base.endsWith(QLatin1String(".png"), Qt::CaseInsensitive)) base.chop(4);
    return base + QStringLiteral(".camera.json");
}

void saveScreenshot(const QImage& image, const QString& file, const CameraState* camera) {
    if (image.isNull()) {
        throw IoError(std::filesystem::path(file.toStdString()), "the captured image is empty");
    }
    // Encode in memory first, so that an encoder failure never touches the disk.
    QByteArray png;
    QBuffer buffer(&png);
    buffer.open(QIODevice::WriteOnly);
    if (!image.save(&buffer, "PNG")) {
        throw IoError(std::filesystem::path(file.toStdString()), "PNG encoding failed");
    }
    writeAtomically(file, png);
    if (camera) {
        writeAtomically(cameraFileFor(file), cameraToJson(*camera).toUtf8());
    }
}

}  // namespace lidistill::ui
