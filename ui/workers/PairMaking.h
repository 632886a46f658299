#pragma once
// SPDX-License-Identifier: MIT

#include "ui/workers/CliProcess.h"
#include "ui/workers/WorkerClient.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>

namespace lidistill::ui {

/// What one Make-pairs run makes (`lidistill pairs make`'s options).
struct MakePairsSettings {
    QString model;     ///< model file (default: the shipped student)
    QString sequence;  ///< sequence folder
    QString store;     ///< pair store file
    int first = 0;     ///< frames first .. last - 1
    int last = 1;
    int steps = 0;                           ///< --steps; 0: the model file's sampling
    double lambda = 1.1;                     ///< --lambda: noise scale of candidate B
    int points = 0;                          ///< --points; 0: the model's scale
    QString device = QStringLiteral("cpu");  ///< cpu or cuda
};

/// Makes preference pairs through a persistent `lidistill worker` (WorkerClient, maybe on
/// another machine): the model stays loaded, each frame is completed twice (seed + frame at
/// noise scale 1 and at lambda), and the clouds come back over the protocol; the pair is then
/// scored against the frame's ground truth and stored here, by core's pairs::storeCandidatePair,
/// the code `lidistill pairs make` runs, so a pair is the same whichever made it. A frame whose
/// pair is in the store already is kept, not made again. The ground-truth map, the scoring and
/// the store writes run on QtConcurrent threads; the GUI thread only routes. GUI thread only.
class PairMaking : public QObject {
    Q_OBJECT

public:
    /// `worker` runs the completions; it must outlive this object.
    explicit PairMaking(WorkerClient* worker, QObject* parent = nullptr);
    /// Waits for a store write in flight (never leaves half a pair).
    ~PairMaking() override;

    /// Starts a run. @return false, with the reason in `error`, while a run goes on or when the
    /// worker cannot be started or the model file not read.
    bool start(const MakePairsSettings& settings, QString* error = nullptr);
    /// Stops after the frame being stored, if any; pairs stored stay. finished() says Cancelled.
    void cancel();
    bool isRunning() const noexcept { return m_run != nullptr; }

Q_SIGNALS:
    void progress(double fraction, const QString& stage);
    /// Pair `id` (of `frame`) is in the store.
    void pairStored(qlonglong id, const QString& frame);
    /// The run ended: `message` is empty on success, the reason on failure, "cancelled".
    void finished(lidistill::ui::CliOutcome outcome, const QString& message, int made, int kept);

private:
    struct Run;
    void onWorkerFinished(const QString& job, CliOutcome outcome, const QString& message,
                          const QString& code, const std::optional<events::Event>& result);
    void onWorkerProgress(const QString& job, double fraction, const QString& stage);
    void maybeBegin();
    void nextFrame();
    void storeFrame();
    void end(CliOutcome outcome, const QString& message);

    WorkerClient* m_worker;
    std::unique_ptr<Run> m_run;
    QFutureWatcher<QString> m_background;  // map preparation, then each frame's scoring
};

}  // namespace lidistill::ui
