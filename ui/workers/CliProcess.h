#pragma once
// SPDX-License-Identifier: MIT

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

#include "core/base/Events.h"

#include <optional>

class QTimer;

namespace lidistill::ui {

/// How a `lidistill` run ended.
enum class CliOutcome {
    Succeeded,  ///< exit code 0
    Failed,     ///< non-zero exit, crash, or the program could not be started
    Cancelled,  ///< stop() ended it, or the program reported "cancelled"
};

/// Runs the `lidistill` command-line program for the studio, which never links libtorch:
/// completions (training runs are TrainingRun's). It runs the program with `--events -`, so
/// that stdout carries the job's event stream (core/base/Events.h): progress events become
/// progress(), the error event's message is the failure message, the ended event's status
/// says whether it was cancelled; nothing is matched in the program's English. One finished()
/// per start().
/// stop() asks the program to cancel (SIGTERM: it stops at its next checkpoint and writes
/// nothing) and kills it if it has not ended after gracePeriodMs(). Nothing here blocks the
/// calling thread, except the destructor, which ends a running program (terminate, then
/// kill) and waits for it so that no orphan keeps computing. GUI thread (or any one thread
/// with an event loop).
class CliProcess : public QObject {
    Q_OBJECT

public:
    explicit CliProcess(QObject* parent = nullptr);
    ~CliProcess() override;

    /// The `lidistill` binary to run: $LIDISTILL_CLI when set, else `lidistill` next to the
    /// running executable (applicationDirPath()) when it exists, else plain `lidistill`
    /// (looked up in PATH).
    static QString defaultProgram();

    /// The program started by start() (default: defaultProgram()).
    void setProgram(const QString& program) { m_program = program; }
    const QString& program() const noexcept { return m_program; }
    /// How long stop() waits after SIGTERM before it kills (default 3000 ms).
    void setGracePeriodMs(int ms) { m_graceMs = ms; }
    int gracePeriodMs() const noexcept { return m_graceMs; }

    /// Starts `program() arguments...`. Ignored (returns false) while a run is going on.
    bool start(const QStringList& arguments);
    bool isRunning() const;
    /// The arguments of the current or last run.
    const QStringList& arguments() const noexcept { return m_arguments; }
    /// Everything the current or last run wrote for people (its summary and diagnostics: with
    /// --events the CLI writes them to stderr).
    const QString& standardOutput() const noexcept { return m_stdout; }
    /// The lines of standardOutput().
    const QStringList& diagnostics() const noexcept { return m_diagnostics; }
    /// The last result event of the current or last run (its outputs, points, seconds).
    const std::optional<events::Event>& result() const noexcept { return m_result; }

public Q_SLOTS:
    /// Cancels the run: SIGTERM now, SIGKILL after gracePeriodMs(). finished() reports
    /// CliOutcome::Cancelled. Does nothing when idle.
    void stop();

Q_SIGNALS:
    /// Progress of the run, fraction in 0..1, in the order the program reported it.
    void progress(double fraction, const QString& stage);
    /// A metrics event: `recordJson` is its record as the program wrote it (`pairs make`: one
    /// per stored pair, with its "pair" id).
    void metrics(const QString& recordJson);
    /// The run ended. `message`: empty on success; the CLI's error message on failure (or
    /// why the program could not run); "cancelled" when cancelled.
    void finished(lidistill::ui::CliOutcome outcome, const QString& message);

private:
    void readStderr();
    void readEvents();
    void handleEvent(const events::Event& e);
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onError(QProcess::ProcessError error);
    void finish(CliOutcome outcome, const QString& message);
    QString failureMessage(int exitCode) const;

    QProcess* m_process;
    QTimer* m_killTimer;
    QString m_program;
    QStringList m_arguments;
    QString m_stdout;
    QStringList m_diagnostics;
    QByteArray m_stderrTail;  // an incomplete last line
    QByteArray m_eventsTail;
    std::optional<events::Event> m_ended, m_error, m_result;
    int m_graceMs = 3000;
    bool m_running = false;
    bool m_stopRequested = false;
};

}  // namespace lidistill::ui

Q_DECLARE_METATYPE(lidistill::ui::CliOutcome)
