#pragma once
// SPDX-License-Identifier: MIT

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <optional>

class QTimer;

namespace lidistill::ui {

/// How a `lidistill` run ended.
enum class CliOutcome {
    Succeeded,  ///< exit code 0
    Failed,     ///< non-zero exit, crash, or the program could not be started
    Cancelled,  ///< stop() ended it, or the program reported "cancelled"
};

/// One line of `lidistill` progress ("complete: 45% denoising", as TerminalProgress writes
/// with LIDISTILL_PROGRESS=percent).
struct CliProgressLine {
    QString task;     ///< "complete"
    double fraction;  ///< 0..1
    QString stage;    ///< "denoising" (may be empty)
};

/// Parses a progress line; nothing for any other line (log messages such as
/// "lidistill complete: warning: ..." never parse: their task part has a space).
std::optional<CliProgressLine> parseCliProgressLine(const QString& line);

/// Runs the `lidistill` command-line program for the studio, which never links libtorch:
/// completions now, training runs later. It sets LIDISTILL_PROGRESS=percent, turns the
/// progress lines on stderr into progress(), keeps the CLI's error message
/// ("lidistill complete: error: MSG" -> "MSG") and reports one finished() per start().
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
    /// Everything the current or last run wrote to stdout (the CLI's summary).
    const QString& standardOutput() const noexcept { return m_stdout; }
    /// The stderr lines of the current or last run that were not progress lines.
    const QStringList& diagnostics() const noexcept { return m_diagnostics; }

public Q_SLOTS:
    /// Cancels the run: SIGTERM now, SIGKILL after gracePeriodMs(). finished() reports
    /// CliOutcome::Cancelled. Does nothing when idle.
    void stop();

Q_SIGNALS:
    /// Progress of the run, fraction in 0..1, in the order the program reported it.
    void progress(double fraction, const QString& stage);
    /// The run ended. `message`: empty on success; the CLI's error message on failure (or
    /// why the program could not run); "cancelled" when cancelled.
    void finished(lidistill::ui::CliOutcome outcome, const QString& message);

private:
    void readStderr();
    void handleLine(const QString& line);
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
    int m_graceMs = 3000;
    bool m_running = false;
    bool m_stopRequested = false;
    bool m_reportedCancel = false;
};

}  // namespace lidistill::ui

Q_DECLARE_METATYPE(lidistill::ui::CliOutcome)
