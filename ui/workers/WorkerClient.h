#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/Events.h"
#include "core/base/PointCloud.h"
#include "ui/workers/CliProcess.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QSet>
#include <QString>
#include <QStringList>

#include <optional>

namespace lidistill::ui {

/// The studio's side of `lidistill worker` (core/cli/Worker.h): one long-lived process that
/// keeps the models it loaded, so a second completion with the same model costs no load.
///
/// complete() sends the scan's points in the request and gets the clouds back in the result
/// event, and with a command prefix (setCommandPrefix({"ssh", "gpu-box"})) uploads the model
/// file's bytes instead of naming its path: the worker may run on another machine with no
/// access to the studio's files. The worker is started on the first job; if it dies, every job
/// it had fails with "the worker stopped" (workerDied()) and the next job starts a new one.
/// Nothing here blocks the GUI thread. GUI thread only.
class WorkerClient : public QObject {
    Q_OBJECT

public:
    explicit WorkerClient(QObject* parent = nullptr);
    /// Asks the worker to quit, and kills it if it has not after a moment.
    ~WorkerClient() override;

    /// `lidistill` as the worker's machine names it (default CliProcess::defaultProgram()).
    void setProgram(const QString& program);
    const QString& program() const noexcept { return m_program; }
    /// Words before "PROGRAM worker" (empty: run it here). Takes effect at the next start.
    void setCommandPrefix(const QStringList& prefix);
    const QStringList& commandPrefix() const noexcept { return m_prefix; }
    /// Send model bytes rather than paths (default: whenever there is a prefix).
    void setUploadModels(bool upload) {
        m_upload = upload;
        m_uploadSet = true;
    }

    /// Completes `scan` (its xyz) with `modelFile` and `options` (the words `lidistill
    /// complete` takes after OUT: --steps, --seed, --device, ...). @return the job id, or an
    /// empty string with the reason in `error` (an unreadable model file).
    /// `refinerFile`, when given, replaces the model's refiner (`lidistill complete --refiner`).
    QString complete(const QString& modelFile, const PointCloud& scan, const QStringList& options,
                     QString* error = nullptr, const QString& refinerFile = {});
    /// Asks for `modelFile`'s sampling defaults and scale (the worker's "describe": steps,
    /// guidance, points, tile, min_range, max_range, refiner), loading it when the worker has
    /// not. @return the job id (its result event holds them), or an empty string as complete().
    QString describe(const QString& modelFile, QString* error = nullptr,
                     const QString& refinerFile = {});
    /// The last lines the worker wrote on stderr (for failure reports).
    const QStringList& diagnostics() const noexcept { return m_stderr; }
    /// Cancels a job; the worker goes on. finished() reports it Cancelled.
    void cancel(const QString& job);
    /// Whether `job` has not finished yet.
    bool isPending(const QString& job) const { return m_pending.contains(job); }
    /// The worker's pid, 0 when none runs.
    qint64 pid() const;
    /// The options of the last complete() (for tests and logs).
    const QStringList& lastOptions() const noexcept { return m_lastOptions; }
    /// Models loaded by the present worker process (a new worker starts with none).
    int modelsLoaded() const { return m_loaded.size(); }

    /// The clouds of a complete job's result event (xyz; empty when absent).
    static PointCloud cloudOf(const events::Event& result, const char* name);

Q_SIGNALS:
    void progress(const QString& job, double fraction, const QString& stage);
    /// `errorCode`: the error event's code (core/base/Events.h: "no_device", "io", ...) or
    /// "worker_died"; `result`: the result event of a Succeeded job.
    void finished(const QString& job, lidistill::ui::CliOutcome outcome, const QString& message,
                  const QString& errorCode, const std::optional<lidistill::events::Event>& result);
    /// The worker process ended while jobs were pending (they have failed).
    void workerDied(const QString& message);

private:
    bool ensureStarted(QString* error);
    // Loads the model when the worker lacks it, then sends `op` with the model's name and a new
    // job id. @return the job id, or empty with `error` set.
    QString submit(const QString& modelFile, const QString& refinerFile, QJsonObject op,
                   QString* error);
    void send(const QByteArray& json);
    void readEvents();
    void onEvent(const events::Event& e);
    void onProcessFinished();
    void fail(const QString& job, const QString& message, const QString& code);

    struct Pending {
        std::optional<events::Event> error, result;
        QString loadFor;   // a load_model job: the complete job that waits for it
        QString modelKey;  // and the model it loads
    };

    QProcess* m_process = nullptr;
    QString m_program;
    QStringList m_prefix;
    bool m_upload = false;
    bool m_uploadSet = false;
    QByteArray m_tail;
    QStringList m_stderr;
    QHash<QString, Pending> m_pending;
    QHash<QString, QString> m_modelNames;  // model key (path, size, time) -> worker's name
    QSet<QString> m_loaded;                // keys the present worker has (or is loading)
    QStringList m_lastOptions;
    int m_next = 0;
};

}  // namespace lidistill::ui

Q_DECLARE_METATYPE(std::optional<lidistill::events::Event>)
