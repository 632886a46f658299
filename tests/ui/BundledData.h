#pragma once
// SPDX-License-Identifier: MIT
// Where the ui tests find the bundled SemanticKITTI sample (datasets/, in the source tree).

#include <QFileInfo>
#include <QString>

#include <cstdlib>

namespace lidistill::ui::test {

/// datasets/semantickitti-mini/sequences/00, absolute (LIDISTILL_SOURCE_DIR set by CTest).
inline QString bundledSequence() {
    const char* src = std::getenv("LIDISTILL_SOURCE_DIR");
    return QFileInfo(QString::fromLocal8Bit(src && *src ? src : ".") +
                     "/datasets/semantickitti-mini/sequences/00")
        .absoluteFilePath();
}

/// The first frame of that sequence.
inline QString bundledScan() {
    return bundledSequence() + "/velodyne/000000.bin";
}

}  // namespace lidistill::ui::test
