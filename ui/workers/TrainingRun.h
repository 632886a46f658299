#pragma once
// SPDX-License-Identifier: MIT

#include <QObject>
#include <QString>
#include <QStringList>

class QTimer;

namespace lidistill::ui {

class MetricsLog;

/// The options of one `lidistill train-dpo` run, as the training panel edits them.
struct TrainingSettings {
    QString teacher;   ///< teacher model file
    QString sequence;  ///< sequence folder (with poses.txt)
    QString outDir;    ///< OUT_DIR
    int steps = 1000;
    double lr = 1e-5;
    double lambda = 1.1;                           ///< noise scale of the loser sample
    QString objective = QStringLiteral("linear");  ///< "linear" or "released"
    QString device = QStringLiteral("cpu");        ///< "cpu" or "cuda"
    qint64 seed = 0;
    int checkpointEvery = 0;  ///< 0: the CLI's default
    int validateEvery = 0;    ///< 0: no validation
    int validationFrame = 0;  ///< with validateEvery
    QString frames;           ///< "A:B", empty for all
    int points = 0;           ///< --points, 0: the teacher's scale (any set: --force-scale)
    int fullPoints = 0;       ///< --full-points, 0: the teacher's scale
    int tile = 0;             ///< --tile, 0: the teacher's scale
    bool augment = false;
};

/// The `lidistill` arguments for `settings`: "train-dpo TEACHER SEQ OUT --steps N --lr ..."
/// (options left at 0 or empty are not passed), plus --resume when `resume` and --force when
/// `force` (start over a run in OUT_DIR, or resume it with other options).
QStringList trainArguments(const TrainingSettings& settings, bool resume, bool force = false);

/// Where a run stands.
enum class TrainingState {
    Idle,      ///< nothing started or attached
    Running,   ///< the process is alive
    Stopping,  ///< asked to stop, still alive (it ends after its current step)
    Finished,  ///< it ran all its steps
    Stopped,   ///< stopped by a signal ("train-dpo: stopped at step k")
    Failed,    ///< it ended with an error (message() says which)
};

/// "running", "stopped", ... (translated).
QString stateName(TrainingState state);

/// One `lidistill train-dpo` run in OUT_DIR, seen from the studio.
///
/// start() launches the CLI detached (QProcess::startDetached: its own session, reparented
/// away from the studio), with stdout and stderr going to OUT_DIR/train.log and its pid in
/// OUT_DIR/studio-run.json, so that the studio exiting or crashing never ends the run.
/// attach() follows a run started earlier (by an earlier studio, or from a terminal: then
/// without studio-run.json the run's liveness is unknown unless a live `train-dpo` process
/// names OUT_DIR). Liveness is polled (pid alive and /proc/PID/cmdline naming OUT_DIR, so that
/// a recycled pid is never taken, nor signalled, for the run); when the process is gone the
/// outcome is read from the run's event stream, OUT_DIR/events.jsonl (the CLI's --events:
/// "ended" with a status, "error" with a code and message, the last "result" with the step),
/// never from its human text. Destroying the object leaves the process alone.
/// metrics() follows OUT_DIR/metrics.jsonl. Linux only (/proc). GUI thread only.
class TrainingRun : public QObject {
    Q_OBJECT

public:
    explicit TrainingRun(QObject* parent = nullptr);
    ~TrainingRun() override;

    /// The `lidistill` program start() runs (default CliProcess::defaultProgram()).
    void setProgram(const QString& program) { m_program = program; }
    const QString& program() const noexcept { return m_program; }
    /// Liveness poll interval (default 300 ms).
    void setPollIntervalMs(int ms);

    /// Starts a fresh run (train.log truncated) or, with `resume`, continues the one in
    /// settings.outDir (train.log appended). Creates OUT_DIR. @return false, with the reason
    /// in message() and state() Failed, when the program cannot be started or a run of this
    /// object is still alive.
    bool start(const TrainingSettings& settings, bool resume = false, bool force = false);
    /// Follows the run in `outDir`: its metrics history, and the process while it lives.
    /// @return false (message() says why) when `outDir` has neither metrics.jsonl, run.json
    /// nor studio-run.json.
    bool attach(const QString& outDir);
    /// Asks the run to stop after its current step (SIGTERM); a second call, or kill(), ends it
    /// at once (SIGKILL: the student of the last checkpoint stays). No-op when not alive.
    void stop();
    void kill();

    TrainingState state() const noexcept { return m_state; }
    /// Whether the process is alive (Running or Stopping).
    bool isRunning() const {
        return m_state == TrainingState::Running || m_state == TrainingState::Stopping;
    }
    /// Checks the process now (the timer does it too); updates state().
    void refresh();
    /// The pid of the run (0 when unknown).
    qint64 pid() const noexcept { return m_pid; }
    const QString& outDir() const noexcept { return m_outDir; }
    /// Steps the run was asked for (from the settings or OUT_DIR/run.json), 0 when unknown.
    int totalSteps() const noexcept { return m_totalSteps; }
    /// The error message of a failed run, or the stop line of a stopped one.
    const QString& message() const noexcept { return m_message; }
    /// The last `lines` lines of train.log.
    QString logTail(int lines = 12) const;
    /// The last progress event's "45% training" ("static map: loaded", ...), or empty.
    QString progressStage() const;
    /// OUT_DIR/student_latest.safetensors when it exists, else an empty string.
    QString latestStudent() const;
    MetricsLog* metrics() const noexcept { return m_metrics; }

    /// Whether `pid` is a live `train-dpo` process whose command line names `outDir`.
    static bool isTrainProcess(qint64 pid, const QString& outDir);
    /// The pid of a live `train-dpo` process whose command line names `outDir`, or 0.
    static qint64 findTrainProcess(const QString& outDir);

Q_SIGNALS:
    void stateChanged(lidistill::ui::TrainingState state);

private:
    void setState(TrainingState state);
    void concludeFromLog();
    QString logFile() const;
    /// OUT_DIR/events.jsonl: the run's event stream (--events), how the studio learns how a
    /// run ended (appended by every process of the run).
    QString eventsFile() const;

    QString m_program;
    QString m_outDir;
    MetricsLog* m_metrics;
    QTimer* m_timer;
    TrainingState m_state = TrainingState::Idle;
    QString m_message;
    qint64 m_pid = 0;
    int m_totalSteps = 0;
    bool m_stopSent = false;
};

}  // namespace lidistill::ui

Q_DECLARE_METATYPE(lidistill::ui::TrainingState)
