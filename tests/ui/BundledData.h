#pragma once
// SPDX-License-Identifier: MIT
// Where the ui tests find the bundled SemanticKITTI sample (datasets/, in the source tree), and
// a worker command prefix that plays another machine.

#include <QFileInfo>
#include <QFile>
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

/// Writes `script`: a command prefix that plays "another machine" for a `lidistill worker`: it
/// runs the command in `remoteDir` with an empty environment, after leaving a marker file
/// "prefix-ran" there. @return false when the file cannot be written.
inline bool writeRemotePrefix(const QString& script, const QString& remoteDir) {
    QFile f(script);
    if (!f.open(QIODevice::WriteOnly)) return false;
    f.write(QStringLiteral("#!/bin/sh\ncd '%1' && touch prefix-ran && exec env -i "
                           "PATH=/usr/bin:/bin OMP_NUM_THREADS=1 \"$@\"\n")
                .arg(remoteDir)
                .toUtf8());
    return f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
}

}  // namespace lidistill::ui::test
