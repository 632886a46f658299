// SPDX-License-Identifier: MIT
#include "ui/app/SequenceSession.h"

#include "core/base/Error.h"
#include "core/io/CloudFile.h"
#include "core/map/SequenceMap.h"
#include "ui/models/FrameListModel.h"
#include "ui/workers/PromiseProgress.h"

#include <QCryptographicHash>
#include <QDir>
#include <QStandardPaths>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>

namespace lidistill::ui {

SequenceSession::SequenceSession(QObject* parent)
    : QObject(parent), m_frames(new FrameListModel(this)) {
    connect(&m_frameWatcher, &QFutureWatcher<FrameData>::finished, this,
            &SequenceSession::onFrameFinished);
    connect(&m_mapWatcher, &QFutureWatcher<MapResult>::finished, this,
            &SequenceSession::onMapFinished);
    connect(&m_mapWatcher, &QFutureWatcher<MapResult>::progressValueChanged, this,
            [this](int value) { Q_EMIT mapProgress(value, m_mapWatcher.progressText()); });
}

SequenceSession::~SequenceSession() {
    // Workers hold only shared_ptr copies, but the map build may take a while: stop it.
    m_mapWatcher.cancel();
    m_mapWatcher.waitForFinished();
    m_frameWatcher.waitForFinished();
}

std::filesystem::path SequenceSession::mapCachePath(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::weakly_canonical(dir, ec);
    if (ec) {
        abs = std::filesystem::absolute(dir);
    }
    abs = abs.lexically_normal();
    if (!abs.has_filename()) {  // "seq/00/" and "seq/00" are the same sequence
        abs = abs.parent_path();
    }
    const QByteArray key = QCryptographicHash::hash(QByteArray::fromStdString(abs.generic_string()),
                                                    QCryptographicHash::Sha1)
                               .toHex()
                               .left(16);
    // "00-<hash>": the folder name keeps the cache readable, the hash keeps it unique.
    std::string stem = abs.filename().string();
    if (stem.empty()) {
        stem = "sequence";
    }
    const QString base = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    return std::filesystem::path(base.toStdString()) / "maps" /
           (stem + "-" + key.toStdString() + ".ldmap");
}

bool SequenceSession::open(const QString& dir) {
    std::shared_ptr<const Sequence> seq;
    try {
        seq = std::make_shared<const Sequence>(Sequence::open(dir.toStdString()));
    } catch (const std::exception& e) {
        Q_EMIT failed(tr("Cannot open %1: %2").arg(dir, QString::fromUtf8(e.what())));
        return false;
    }
    m_mapWatcher.cancel();  // the old build ends on its own; its result is dropped
    ++m_generation;
    m_singleFile.clear();
    m_sequence = std::move(seq);
    m_map.reset();
    m_requested = -1;
    m_frames->setSequence(m_sequence);
    Q_EMIT opened(QString::fromStdString(m_sequence->dir().string()),
                  static_cast<int>(m_sequence->size()));
    if (m_sequence->hasPoses() && m_sequence->hasLabels()) {
        startMapBuild();
    }
    requestFrame(0);
    return true;
}

int SequenceSession::frameCount() const noexcept {
    if (!m_singleFile.empty()) return 1;
    return m_sequence ? static_cast<int>(m_sequence->size()) : 0;
}

bool SequenceSession::openFile(const QString& file) {
    const std::filesystem::path path(file.toStdString());
    try {
        io::formatFromPath(path);  // IoError for an unsupported extension
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec)) {
            throw IoError(
                path, std::filesystem::exists(path, ec) ? "not a regular file" : "no such file");
        }
    } catch (const std::exception& e) {
        Q_EMIT failed(tr("Cannot open %1: %2").arg(file, QString::fromUtf8(e.what())));
        return false;
    }
    m_mapWatcher.cancel();
    ++m_generation;
    m_sequence.reset();
    m_map.reset();
    m_singleFile = path;
    m_requested = -1;
    m_frames->setSingleFile(path);
    Q_EMIT opened(file, 1);
    requestFrame(0);
    return true;
}

void SequenceSession::requestFrame(int index) {
    if (index < 0 || index >= frameCount()) {
        return;
    }
    m_requested = index;
    if (!m_frameWatcher.isRunning()) {
        startFrameLoad(index);
    }
    // Otherwise onFrameFinished() starts the latest request.
}

void SequenceSession::setNuscenesAxes(io::NuscenesAxes axes) {
    if (axes == m_nuscenesAxes) {
        return;
    }
    m_nuscenesAxes = axes;
    if (m_requested < 0) {
        return;
    }
    if (m_frameWatcher.isRunning()) {
        m_loading = -1;  // its result has the old axes: onFrameFinished() loads it again
    } else {
        startFrameLoad(m_requested);
    }
}

void SequenceSession::startFrameLoad(int index) {
    m_loading = index;
    m_loadedWithMap = m_map != nullptr;
    auto seq = m_sequence;
    auto staticMap = m_map;
    const std::filesystem::path single = m_singleFile;
    const int generation = m_generation;
    const io::NuscenesAxes axes = m_nuscenesAxes;
    m_frameWatcher.setFuture(QtConcurrent::run([seq, staticMap, single, index, generation, axes] {
        FrameData out;
        out.index = index;
        out.generation = generation;
        const auto i = static_cast<std::size_t>(index);
        PointCloud scan;
        try {
            if (seq) {
                out.name = QString::fromStdString(seq->frameName(i));
                scan = seq->loadScan(i, {}, axes);
            } else {
                out.name = QString::fromStdString(single.filename().string());
                scan = io::readCloud(single, {}, axes);
            }
            out.scan = toPolyData(scan);
        } catch (const std::exception& e) {
            out.error = QString::fromUtf8(e.what());
            return out;
        }
        if (staticMap && seq) {
            try {
                out.groundTruth =
                    toPolyData(map::groundTruthForScan(*staticMap, seq->pose(i), scan));
            } catch (const std::exception& e) {
                out.groundTruthError = QString::fromUtf8(e.what());
            }
        }
        return out;
    }));
}

void SequenceSession::onFrameFinished() {
    const FrameData frame = m_frameWatcher.result();
    const bool stale = frame.generation != m_generation;
    const bool superseded = m_requested != m_loading;
    const bool mapArrived = !m_loadedWithMap && m_map != nullptr;
    if (!stale && !superseded) {
        if (!frame.error.isEmpty()) {
            Q_EMIT failed(tr("Cannot load frame %1: %2").arg(frame.index).arg(frame.error));
        }
        Q_EMIT frameLoaded(frame);
    }
    if (frameCount() > 0 && (stale || superseded || mapArrived) && m_requested >= 0) {
        startFrameLoad(m_requested);
    }
}

void SequenceSession::startMapBuild() {
    auto seq = m_sequence;
    const std::filesystem::path cache = mapCachePath(seq->dir());
    const int generation = m_generation;
    m_mapWatcher.setFuture(
        QtConcurrent::run([seq, cache, generation](QPromise<MapResult>& promise) {
            MapResult out;
            out.generation = generation;
            PromiseProgress<MapResult> progress(promise);
            try {
                out.map = std::make_shared<const map::StaticMap>(
                    map::loadOrBuildStaticMap(*seq, cache, {}, &progress));
            } catch (const Cancelled&) {
                out.cancelled = true;
            } catch (const std::exception& e) {
                out.error = QString::fromUtf8(e.what());
            }
            promise.addResult(out);
        }));
}

void SequenceSession::cancelMapBuild() {
    m_mapWatcher.cancel();
}

void SequenceSession::onMapFinished() {
    // A cancelled future may hold no result at all.
    if (m_mapWatcher.future().resultCount() == 0) {
        return;
    }
    const MapResult result = m_mapWatcher.result();
    if (result.generation != m_generation || result.cancelled) {
        return;
    }
    if (!result.error.isEmpty()) {
        Q_EMIT failed(tr("Cannot build the ground-truth map: %1").arg(result.error));
        return;
    }
    m_map = result.map;
    Q_EMIT mapReady(static_cast<qsizetype>(m_map->size()));
    // The frame on screen was loaded without ground truth: load it again with it.
    if (m_requested >= 0 && !m_frameWatcher.isRunning()) {
        startFrameLoad(m_requested);
    }
}

}  // namespace lidistill::ui
