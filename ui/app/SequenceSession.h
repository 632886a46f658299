#pragma once
// SPDX-License-Identifier: MIT

#include "core/dataset/Sequence.h"
#include "core/io/ScanIo.h"
#include "core/map/StaticMap.h"
#include "ui/render/CloudToVtk.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <filesystem>
#include <memory>
#include <optional>

namespace lidistill::ui {

class FrameListModel;

/// One displayed frame: the scan and, once the sequence's static map exists, its
/// ground-truth crop, both converted for VTK on the worker.
struct FrameData {
    int index = -1;
    QString name;
    CloudPolyData scan;
    std::optional<CloudPolyData> groundTruth;
    QString error;             ///< non-empty: the scan could not be loaded
    QString groundTruthError;  ///< non-empty: the crop failed (the scan is still shown)
    int generation = 0;        ///< which open() it belongs to (stale results are dropped)
};

/// Result of the background map build.
struct MapResult {
    std::shared_ptr<const map::StaticMap> map;
    QString error;  ///< empty on success or when cancelled
    bool cancelled = false;
    int generation = 0;
};

/// The studio's open sequence: its frame list, the asynchronous scan loads, and the static
/// map behind the ground-truth view, built (or read from the user cache) on a worker.
///
/// All loading runs through QtConcurrent + QFutureWatcher; nothing here blocks the GUI
/// thread except Sequence::open(), which reads only small text files. Requests made while a
/// load runs are coalesced: only the most recent frame is loaded next. Exceptions never
/// leave a worker; they arrive as `failed` / FrameData::error. Destroying the session cancels
/// the map build and waits for the workers. GUI thread only.
class SequenceSession : public QObject {
    Q_OBJECT

public:
    explicit SequenceSession(QObject* parent = nullptr);
    ~SequenceSession() override;

    FrameListModel* frames() const noexcept { return m_frames; }
    /// The open sequence; null when nothing or a single file is open.
    const std::shared_ptr<const Sequence>& sequence() const noexcept { return m_sequence; }
    /// The file opened with openFile(), or an empty path.
    const std::filesystem::path& singleFile() const noexcept { return m_singleFile; }
    /// Frames in what is open: the sequence's, 1 for a single file, 0 for nothing.
    int frameCount() const noexcept;
    bool hasMap() const noexcept { return m_map != nullptr; }
    /// The sequence's static map (behind the ground truth), null until it is ready.
    const std::shared_ptr<const map::StaticMap>& staticMap() const noexcept { return m_map; }
    bool isBuildingMap() const { return m_mapWatcher.isRunning(); }
    int currentFrame() const noexcept { return m_requested; }
    /// How nuScenes sweeps (.pcd.bin, stored x right, y forward) are shown. Default
    /// io::NuscenesAxes::KittiFrame: x forward, y left, like KITTI scans, so that the front
    /// and bird's-eye views agree across datasets. Other formats are never turned.
    io::NuscenesAxes nuscenesAxes() const noexcept { return m_nuscenesAxes; }

    /// Where the static map of the sequence in `dir` is cached: under the user cache folder
    /// (QStandardPaths::CacheLocation), keyed by a hash of the absolute path, never inside
    /// the (possibly read-only) dataset.
    static std::filesystem::path mapCachePath(const std::filesystem::path& dir);

public Q_SLOTS:
    /// Opens a sequence folder. On failure the current sequence stays and `failed` is emitted.
    /// On success frame 0 is requested and, if the sequence has poses and labels, the map
    /// build starts. @return whether it opened.
    bool open(const QString& dir);
    /// Opens one scan file (.bin, .pcd.bin, .pcd, .ply) on its own: a one-frame list, read
    /// with io::readCloud (nuScenes sweeps turned as nuscenesAxes() says, as in a folder),
    /// and no ground truth. On failure (unsupported type, missing file) the current content stays
    /// and `failed` is emitted; a file that exists but cannot be read arrives as
    /// FrameData::error like any scan. @return whether it opened.
    bool openFile(const QString& file);
    /// Loads frame `index` in the background (clamped requests are ignored).
    void requestFrame(int index);
    /// Changes how nuScenes sweeps are shown; reloads the current frame when it changed.
    void setNuscenesAxes(lidistill::io::NuscenesAxes axes);
    /// Stops the map build (it ends with MapResult::cancelled).
    void cancelMapBuild();

Q_SIGNALS:
    void opened(const QString& dir, int frameCount);
    void frameLoaded(const lidistill::ui::FrameData& frame);
    void mapProgress(int permille, const QString& stage);
    void mapReady(qsizetype points);
    /// A user-facing error: a bad folder, an unreadable scan, a failed map build.
    void failed(const QString& message);

private:
    void startFrameLoad(int index);
    void onFrameFinished();
    void startMapBuild();
    void onMapFinished();

    FrameListModel* m_frames;
    std::shared_ptr<const Sequence> m_sequence;
    std::filesystem::path m_singleFile;
    std::shared_ptr<const map::StaticMap> m_map;
    QFutureWatcher<FrameData> m_frameWatcher;
    QFutureWatcher<MapResult> m_mapWatcher;
    int m_generation = 0;  // bumped by every successful open()
    int m_requested = -1;  // the frame the user wants
    int m_loading = -1;    // the frame the running job loads
    bool m_loadedWithMap = false;
    io::NuscenesAxes m_nuscenesAxes = io::NuscenesAxes::KittiFrame;
};

}  // namespace lidistill::ui
