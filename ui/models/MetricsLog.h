#pragma once
// SPDX-License-Identifier: MIT

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QVector>

class QFileSystemWatcher;
class QTimer;

namespace lidistill::ui {

/// One training step of a `lidistill train-dpo` run (a line of OUT_DIR/metrics.jsonl).
struct TrainStepMetrics {
    int step = 0;            ///< steps done in all, 1-based
    QString frame;           ///< the training frame ("000123")
    double lossG = 0;        ///< generator (student) loss
    double lossAux = 0;      ///< fake-score (aux) loss
    double cdWinner = 0;     ///< Chamfer distance of the preferred sample, m
    double cdLoser = 0;      ///< of the other sample, m
    double gradG = 0;        ///< generator gradient norm before clipping
    double gradAux = 0;      ///< aux gradient norm
    bool scaledWon = false;  ///< the lambda-scaled noise won the pair
    double seconds = 0;      ///< training seconds of the run (continued by --resume)
};

/// One validation line: the student's Chamfer distance on the validation frame.
struct ValidationMetrics {
    int step = 0;
    QString frame;
    double cd = 0;  ///< m
    double seconds = 0;
};

/// The series of a training run's metrics.jsonl, read as the file grows.
///
/// follow() watches the file (QFileSystemWatcher on it and on its folder, plus a poll timer
/// because watchers miss events on some file systems and when the file does not exist yet)
/// and reads only the bytes added since the last read. Only complete lines count: a last line
/// without its newline (a write in progress, or a process killed mid-write) waits until it
/// completes. A file that disappears, shrinks or is replaced (another inode, or other first
/// bytes: a fresh run in the same folder) is read again from the start, after cleared(). Lines that
/// are not a metrics object are counted in malformedLines() and skipped; a line that a killed run
/// left cut short and a resumed run continued ("{"step":5,"fr{"step":6,...}") keeps its complete
/// last object. GUI thread (or any one thread with an event loop).
class MetricsLog : public QObject {
    Q_OBJECT

public:
    explicit MetricsLog(QObject* parent = nullptr);
    ~MetricsLog() override;

    /// Starts following `file` (which need not exist yet): clears the series and reads what
    /// the file already holds before returning.
    void follow(const QString& file);
    /// Stops watching; the series stay.
    void stopFollowing();
    /// The followed file, or an empty string.
    const QString& file() const noexcept { return m_file; }
    /// Poll interval of the fallback timer (default 500 ms).
    void setPollIntervalMs(int ms);

    const QVector<TrainStepMetrics>& steps() const noexcept { return m_steps; }
    const QVector<ValidationMetrics>& validations() const noexcept { return m_validations; }
    /// The last step logged, 0 when none.
    int lastStep() const { return m_steps.isEmpty() ? 0 : m_steps.constLast().step; }
    /// Complete lines that were neither a step nor a validation line.
    int malformedLines() const noexcept { return m_malformed; }
    /// Steps per second over the last `window` steps logged by one process (the "seconds"
    /// field restarts with a resumed run); 0 when it cannot be told yet.
    double stepsPerSecond(int window = 20) const;

    /// Parses complete metrics lines (no newline) into the series, as follow() does; for
    /// tests and for logs read by other means. @return whether the line was understood.
    bool addLine(const QByteArray& line);
    /// Empties the series (emits cleared()).
    void clear();

public Q_SLOTS:
    /// Reads what was added to the file since the last read (the watcher and the timer call
    /// it; callers may too).
    void poll();

Q_SIGNALS:
    /// The series were emptied (clear(), follow(), or the file was replaced or shrank).
    void cleared();
    /// New entries arrived: `steps` step lines and `validations` validation lines.
    void appended(int steps, int validations);

private:
    void rewatch();
    void reset();  // forgets the file's content read so far

    QString m_file;
    QFileSystemWatcher* m_watcher;
    QTimer* m_timer;
    QVector<TrainStepMetrics> m_steps;
    QVector<ValidationMetrics> m_validations;
    QByteArray m_partial;  // an incomplete last line
    qint64 m_offset = 0;   // bytes of the file consumed (m_partial included)
    QByteArray m_head;     // the file's first bytes, to tell a replacement with a reused inode
    quint64 m_inode = 0;
    quint64 m_device = 0;
    int m_malformed = 0;
};

}  // namespace lidistill::ui
