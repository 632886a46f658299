// SPDX-License-Identifier: MIT
#include "ui/workers/TrainingRun.h"

#include "core/base/Events.h"
#include "core/base/RunFolder.h"
#include "ui/models/MetricsLog.h"
#include "ui/workers/CliProcess.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSaveFile>
#include <QTimer>

#include <csignal>
#include <sys/types.h>

namespace lidistill::ui {

namespace {
// Written by the studio before each start: the outcome is read from the lines after the last.
const QByteArray kStartMarker = "studio: started ";

// The events of the last process in OUT_DIR/events.jsonl (core/base/Events.h): those after the
// last "started" event in the file's last `maxBytes` (the end of a run is always there).
std::vector<events::Event> lastRunEvents(const QString& file, qint64 maxBytes = 256 * 1024) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    if (f.size() > maxBytes) f.seek(f.size() - maxBytes);
    std::vector<events::Event> out;
    for (const QByteArray& line : f.readAll().split('\n')) {
        auto e = events::parse(std::string_view(line.constData(), line.size()));
        if (!e) continue;  // a line cut by the seek or by a kill
        if (e->type == "started") out.clear();
        out.push_back(std::move(*e));
    }
    return out;
}

// A file of the run folder (core/base/RunFolder.h names them all).
QString runFile(const QString& dir, std::filesystem::path (run::Folder::*file)() const) {
    return QString::fromStdString((run::Folder{dir.toStdString()}.*file)().string());
}

QString cleanAbsolute(const QString& path) {
    return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
}

// The lines of `file` after the last start marker, at most the last `maxBytes` of it.
QStringList logLines(const QString& file, qint64 maxBytes = 64 * 1024) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    if (f.size() > maxBytes) f.seek(f.size() - maxBytes);
    QByteArray text = f.readAll();
    const qsizetype marker = text.lastIndexOf(kStartMarker);
    if (marker >= 0) text.remove(0, marker);
    QStringList lines;
    // Progress on a terminal rewrites a line with '\r'; in a file it comes one a line.
    for (const QByteArray& raw : text.split('\n')) {
        for (const QByteArray& part : raw.split('\r')) {
            const QString line = QString::fromUtf8(part).trimmed();
            if (!line.isEmpty()) lines << line;
        }
    }
    return lines;
}

QJsonObject readJsonObject(const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}
}  // namespace

QStringList trainArguments(const TrainingSettings& s, bool resume, bool force) {
    QStringList a{QStringLiteral("train-dpo"), s.teacher, s.sequence, s.outDir};
    // How the run goes and ends, for the studio (core/base/Events.h), appended across resumes.
    a << QStringLiteral("--events") << runFile(s.outDir, &run::Folder::events);
    auto opt = [&a](const char* name, const QString& value) {
        a << QStringLiteral("--%1").arg(QLatin1String(name)) << value;
    };
    opt("steps", QString::number(s.steps));
    opt("lr", QString::number(s.lr, 'g', 12));
    opt("lambda", QString::number(s.lambda, 'g', 12));
    opt("objective", s.objective);
    opt("device", s.device);
    opt("seed", QString::number(s.seed));
    if (s.checkpointEvery > 0) opt("checkpoint-every", QString::number(s.checkpointEvery));
    if (s.validateEvery > 0) {
        opt("validate-every", QString::number(s.validateEvery));
        opt("validation-frame", QString::number(s.validationFrame));
    }
    if (!s.frames.isEmpty()) opt("frames", s.frames);
    if (s.points > 0) opt("points", QString::number(s.points));
    if (s.fullPoints > 0) opt("full-points", QString::number(s.fullPoints));
    if (s.tile > 0) opt("tile", QString::number(s.tile));
    // Sampling figures typed in the panel are the user's choice, even off the teacher's scale.
    if (s.points > 0 || s.fullPoints > 0 || s.tile > 0) a << QStringLiteral("--force-scale");
    if (s.augment) a << QStringLiteral("--augment");
    if (resume) a << QStringLiteral("--resume");
    if (force) a << QStringLiteral("--force");
    return a;
}

QString stateName(TrainingState state) {
    switch (state) {
        case TrainingState::Idle:
            return QObject::tr("idle");
        case TrainingState::Running:
            return QObject::tr("running");
        case TrainingState::Stopping:
            return QObject::tr("stopping");
        case TrainingState::Finished:
            return QObject::tr("finished");
        case TrainingState::Stopped:
            return QObject::tr("stopped");
        case TrainingState::Failed:
            return QObject::tr("failed");
    }
    return {};
}

TrainingRun::TrainingRun(QObject* parent)
    : QObject(parent),
      m_program(CliProcess::defaultProgram()),
      m_metrics(new MetricsLog(this)),
      m_timer(new QTimer(this)) {
    qRegisterMetaType<TrainingState>();
    m_timer->setInterval(300);
    connect(m_timer, &QTimer::timeout, this, &TrainingRun::refresh);
}

// The process is detached on purpose: it outlives this object (and the studio).
TrainingRun::~TrainingRun() = default;

void TrainingRun::setPollIntervalMs(int ms) {
    m_timer->setInterval(ms);
    m_metrics->setPollIntervalMs(ms);
}

QString TrainingRun::logFile() const {
    return QDir(m_outDir).filePath(QStringLiteral("train.log"));
}

QString TrainingRun::eventsFile() const {
    return runFile(m_outDir, &run::Folder::events);
}

bool TrainingRun::start(const TrainingSettings& settings, bool resume, bool force) {
    if (isRunning()) {
        refresh();
        if (isRunning()) return false;
    }
    m_timer->stop();
    m_metrics->stopFollowing();
    m_stopSent = false;
    m_pid = 0;
    m_message.clear();
    TrainingSettings s = settings;
    s.outDir = cleanAbsolute(s.outDir);
    // Absolute paths: the pid check matches OUT_DIR in the command line, and the run does not
    // depend on the studio's working folder.
    if (!s.teacher.isEmpty()) s.teacher = cleanAbsolute(s.teacher);
    if (!s.sequence.isEmpty()) s.sequence = cleanAbsolute(s.sequence);
    m_outDir = s.outDir;
    m_totalSteps = s.steps;
    if (!QDir().mkpath(m_outDir)) {
        m_message = tr("cannot create the output folder %1").arg(m_outDir);
        setState(TrainingState::Failed);
        return false;
    }
    const QStringList args = trainArguments(s, resume, force);
    {
        QFile log(logFile());
        if (!log.open(QIODevice::WriteOnly | (resume ? QIODevice::Append : QIODevice::Truncate))) {
            m_message = tr("cannot write %1: %2").arg(logFile(), log.errorString());
            setState(TrainingState::Failed);
            return false;
        }
        log.write(kStartMarker + QDateTime::currentDateTime().toString(Qt::ISODate).toUtf8() +
                  ": " + QFile::encodeName(m_program) + ' ' + args.join(' ').toUtf8() + '\n');
    }
    QProcess p;
    p.setProgram(m_program);
    p.setArguments(args);
    p.setStandardInputFile(QProcess::nullDevice());
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.setStandardOutputFile(logFile(), QIODevice::Append);
    // startDetached forks twice and calls setsid(): the run has its own session, is not our
    // child, and no signal meant for the studio (Ctrl+C in its terminal) reaches it.
    qint64 pid = 0;
    if (!p.startDetached(&pid)) {
        m_message = tr("cannot start %1: %2").arg(m_program, p.errorString());
        setState(TrainingState::Failed);
        return false;
    }
    m_pid = pid;
    QJsonObject record{{"pid", pid},
                       {"program", m_program},
                       {"arguments", QJsonArray::fromStringList(args)},
                       {"out_dir", m_outDir},
                       {"steps", s.steps},
                       {"started", QDateTime::currentDateTime().toString(Qt::ISODate)}};
    QSaveFile rec(runFile(m_outDir, &run::Folder::studioRecord));
    if (rec.open(QIODevice::WriteOnly)) {
        rec.write(QJsonDocument(record).toJson());
        rec.commit();  // without it a later attach only misses the pid: the run still goes on
    }
    // A fresh run removes metrics.jsonl at its start; the log notices the new file.
    m_metrics->follow(runFile(m_outDir, &run::Folder::metrics));
    setState(TrainingState::Running);
    m_timer->start();
    return true;
}

bool TrainingRun::attach(const QString& outDir) {
    const QString dir = cleanAbsolute(outDir);
    const QDir d(dir);
    const bool hasRun = QFileInfo::exists(runFile(dir, &run::Folder::metrics)) ||
                        QFileInfo::exists(runFile(dir, &run::Folder::runJson)) ||
                        QFileInfo::exists(runFile(dir, &run::Folder::studioRecord));
    if (!hasRun) {
        m_message = tr("%1 holds no training run (no metrics.jsonl or run.json)").arg(dir);
        return false;
    }
    m_timer->stop();
    m_outDir = dir;
    m_message.clear();
    m_stopSent = false;
    const QJsonObject record = readJsonObject(runFile(dir, &run::Folder::studioRecord));
    const QJsonObject runJson = readJsonObject(runFile(dir, &run::Folder::runJson));
    m_totalSteps = runJson.value(QLatin1String("steps")).toInt(record.value("steps").toInt(0));
    m_pid = static_cast<qint64>(record.value(QLatin1String("pid")).toDouble(0));
    if (!isTrainProcess(m_pid, m_outDir)) m_pid = findTrainProcess(m_outDir);
    m_metrics->follow(runFile(dir, &run::Folder::metrics));
    m_state = TrainingState::Idle;
    if (m_pid != 0) {
        setState(TrainingState::Running);
        m_timer->start();
    } else {
        concludeFromLog();
        m_metrics->stopFollowing();
    }
    return true;
}

void TrainingRun::refresh() {
    if (!isRunning()) return;
    if (isTrainProcess(m_pid, m_outDir)) return;
    m_timer->stop();
    m_metrics->poll();  // the last lines
    m_metrics->stopFollowing();
    concludeFromLog();
}

void TrainingRun::concludeFromLog() {
    // How the last process ended, from its event stream: never from its English.
    const auto ev = lastRunEvents(eventsFile());
    const events::Event* ended = nullptr;
    const events::Event* error = nullptr;
    const events::Event* result = nullptr;
    for (const auto& e : ev) {
        if (e.type == "ended") ended = &e;
        if (e.type == "error") error = &e;
        if (e.type == "result") result = &e;
    }
    if (ended) {
        if (ended->status == "ok") {
            m_message.clear();
            setState(TrainingState::Finished);
        } else if (ended->status == "cancelled") {
            const auto step = result ? result->number("step") : std::nullopt;
            m_message = step ? tr("stopped at step %1").arg(static_cast<long long>(*step))
                             : tr("stopped before the first step");
            setState(TrainingState::Stopped);
        } else {
            m_message = error ? QString::fromStdString(error->message)
                              : tr("ended with exit code %1").arg(ended->exitCode);
            setState(TrainingState::Failed);
        }
        return;
    }
    const int last = m_metrics->lastStep();
    if (m_totalSteps > 0 && last >= m_totalSteps) {
        m_message.clear();
        setState(TrainingState::Finished);
    } else if (m_stopSent) {
        m_message = tr("killed at step %1").arg(last);
        setState(TrainingState::Stopped);
    } else if (!QFileInfo::exists(eventsFile())) {
        // A run from a terminal: no events here to tell how it ended.
        m_message = tr("not running (step %1)").arg(last);
        setState(TrainingState::Stopped);
    } else {
        m_message = tr("the process ended without a word at step %1 (killed?)").arg(last);
        setState(TrainingState::Failed);
    }
}

void TrainingRun::stop() {
    if (!isRunning()) return;
    if (!isTrainProcess(m_pid, m_outDir)) {
        refresh();
        return;
    }
    ::kill(static_cast<pid_t>(m_pid), m_stopSent ? SIGKILL : SIGTERM);
    m_stopSent = true;
    setState(TrainingState::Stopping);
}

void TrainingRun::kill() {
    if (!isRunning() || !isTrainProcess(m_pid, m_outDir)) return;
    m_stopSent = true;
    ::kill(static_cast<pid_t>(m_pid), SIGKILL);
    setState(TrainingState::Stopping);
}

void TrainingRun::setState(TrainingState state) {
    if (state == m_state) return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

QString TrainingRun::logTail(int lines) const {
    QStringList out;
    for (const QString& line : logLines(logFile())) {
        if (!line.startsWith(QString::fromLatin1(kStartMarker))) out << line;
    }
    return out.mid(std::max<qsizetype>(0, out.size() - lines)).join('\n');
}

QString TrainingRun::progressStage() const {
    const auto ev = lastRunEvents(eventsFile(), 16 * 1024);
    for (auto it = ev.crbegin(); it != ev.crend(); ++it) {
        if (it->type == "progress") {
            return QStringLiteral("%1% %2")
                .arg(qRound(it->fraction * 100))
                .arg(QString::fromStdString(it->stage));
        }
    }
    return {};
}

QString TrainingRun::latestStudent() const {
    const QString f = QString::fromStdString(
        run::Folder{m_outDir.toStdString()}.latestModel("student").string());
    return !m_outDir.isEmpty() && QFileInfo::exists(f) ? f : QString();
}

bool TrainingRun::isTrainProcess(qint64 pid, const QString& outDir) {
    if (pid <= 0 || outDir.isEmpty()) return false;
    const QString proc = QStringLiteral("/proc/%1").arg(pid);
    QFile stat(proc + QStringLiteral("/stat"));
    if (!stat.open(QIODevice::ReadOnly)) return false;
    // "pid (comm) S ...": the state follows the last ')'; a zombie has ended.
    const QByteArray st = stat.readAll();
    const qsizetype paren = st.lastIndexOf(')');
    if (paren < 0 || st.mid(paren + 2, 1) == "Z") return false;
    QFile cmd(proc + QStringLiteral("/cmdline"));
    if (!cmd.open(QIODevice::ReadOnly)) return false;
    const QList<QByteArray> args = cmd.readAll().split('\0');
    if (!args.contains("train-dpo")) return false;
    const QString cwd = QFileInfo(proc + QStringLiteral("/cwd")).symLinkTarget();
    const QString want = QDir::cleanPath(outDir);
    for (const QByteArray& a : args) {
        if (a.isEmpty()) continue;
        const QString arg = QFile::decodeName(a);
        const QString abs = QDir::isAbsolutePath(arg) || cwd.isEmpty()
                                ? QDir::cleanPath(arg)
                                : QDir::cleanPath(QDir(cwd).absoluteFilePath(arg));
        if (abs == want) return true;
    }
    return false;
}

qint64 TrainingRun::findTrainProcess(const QString& outDir) {
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString& e : entries) {
        bool ok = false;
        const qint64 pid = e.toLongLong(&ok);
        if (ok && isTrainProcess(pid, outDir)) return pid;
    }
    return 0;
}

}  // namespace lidistill::ui
