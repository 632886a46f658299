// SPDX-License-Identifier: MIT
#include "ui/workers/WorkerClient.h"

#include "core/base/XyzCodec.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>


namespace lidistill::ui {

WorkerClient::WorkerClient(QObject* parent)
    : QObject(parent), m_program(CliProcess::defaultProgram()) {
    qRegisterMetaType<std::optional<events::Event>>();
}

WorkerClient::~WorkerClient() {
    if (!m_process || m_process->state() == QProcess::NotRunning) return;
    m_process->disconnect(this);
    for (const QString& job : m_pending.keys()) cancel(job);
    m_process->write("{\"op\":\"quit\"}\n");
    m_process->closeWriteChannel();
    if (!m_process->waitForFinished(3000)) {
        m_process->kill();
        m_process->waitForFinished(3000);
    }
}

void WorkerClient::setProgram(const QString& program) {
    m_program = program;
}

void WorkerClient::setCommandPrefix(const QStringList& prefix) {
    m_prefix = prefix;
    if (!m_uploadSet) m_upload = !prefix.isEmpty();
}

qint64 WorkerClient::pid() const {
    return m_process && m_process->state() != QProcess::NotRunning ? m_process->processId() : 0;
}

bool WorkerClient::ensureStarted(QString* error) {
    if (m_process && m_process->state() != QProcess::NotRunning) return true;
    if (m_process) m_process->deleteLater();
    m_process = new QProcess(this);
    m_tail.clear();
    m_stderr.clear();
    m_loaded.clear();
    connect(m_process, &QProcess::readyReadStandardOutput, this, &WorkerClient::readEvents);
    connect(m_process, &QProcess::readyReadStandardError, this, [this] {
        const auto lines = QString::fromUtf8(m_process->readAllStandardError()).split('\n');
        for (const QString& l : lines) {
            if (!l.trimmed().isEmpty()) m_stderr << l.trimmed();
        }
        while (m_stderr.size() > 20) m_stderr.removeFirst();
    });
    connect(m_process, &QProcess::finished, this, &WorkerClient::onProcessFinished);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart) onProcessFinished();
    });
    QStringList words = m_prefix;
    words << m_program << QStringLiteral("worker");
    m_process->start(words.takeFirst(), words);
    if (!m_process->waitForStarted(10000)) {
        if (error) *error = tr("cannot start the worker (%1): %2")
                                .arg((m_prefix + QStringList{m_program}).join(' '),
                                     m_process->errorString());
        return false;
    }
    return true;
}

void WorkerClient::send(const QByteArray& json) {
    m_process->write(json);
    m_process->write("\n");
}

QString WorkerClient::complete(const QString& modelFile, const PointCloud& scan,
                               const QStringList& options, QString* error,
                               const QString& refinerFile) {
    QJsonObject op{{"op", "complete"},
                   {"scan", QString::fromStdString(encodeXyz(scan))},
                   {"arguments", QJsonArray::fromStringList(options)}};
    const QString job = submit(modelFile, refinerFile, std::move(op), error);
    if (!job.isEmpty()) m_lastOptions = options;
    return job;
}

QString WorkerClient::describe(const QString& modelFile, QString* error,
                               const QString& refinerFile) {
    return submit(modelFile, refinerFile, QJsonObject{{"op", "describe"}}, error);
}

QString WorkerClient::submit(const QString& modelFile, const QString& refinerFile, QJsonObject op,
                             QString* error) {
    const QFileInfo info(modelFile);
    if (!info.isFile()) {
        if (error) *error = tr("%1: no such model file").arg(modelFile);
        return {};
    }
    const QFileInfo refiner(refinerFile);
    if (!refinerFile.isEmpty() && !refiner.isFile()) {
        if (error) *error = tr("%1: no such refiner file").arg(refinerFile);
        return {};
    }
    // A model is known by its path, size and time (and its refiner's): a retrained file is
    // loaded again.
    QString key = QStringLiteral("%1|%2|%3")
                      .arg(info.absoluteFilePath())
                      .arg(info.size())
                      .arg(info.lastModified().toMSecsSinceEpoch());
    if (!refinerFile.isEmpty()) {
        key += QStringLiteral("|%1|%2|%3")
                   .arg(refiner.absoluteFilePath())
                   .arg(refiner.size())
                   .arg(refiner.lastModified().toMSecsSinceEpoch());
    }
    if (!ensureStarted(error)) return {};  // a new worker has no model loaded
    if (!m_modelNames.contains(key)) m_modelNames.insert(key, QStringLiteral("m%1").arg(m_next++));
    const QString name = m_modelNames.value(key);
    const QString job = QStringLiteral("j%1").arg(m_next++);
    if (!m_loaded.contains(key)) {
        QJsonObject load{{"op", "load_model"}, {"model", name}};
        if (m_upload) {  // read only when the worker lacks it: a model is megabytes
            QFile f(modelFile);
            if (!f.open(QIODevice::ReadOnly)) {
                if (error) *error = tr("%1: %2").arg(modelFile, f.errorString());
                return {};
            }
            load.insert("data", QString::fromLatin1(f.readAll().toBase64()));
            if (!refinerFile.isEmpty()) {
                QFile r(refinerFile);
                if (!r.open(QIODevice::ReadOnly)) {
                    if (error) *error = tr("%1: %2").arg(refinerFile, r.errorString());
                    return {};
                }
                load.insert("refiner_data", QString::fromLatin1(r.readAll().toBase64()));
            }
        } else {
            load.insert("path", info.absoluteFilePath());
            if (!refinerFile.isEmpty()) load.insert("refiner", refiner.absoluteFilePath());
        }
        const QString loadJob = QStringLiteral("j%1").arg(m_next++);
        load.insert("job", loadJob);
        Pending p;
        p.loadFor = job;
        p.modelKey = key;
        m_pending.insert(loadJob, p);
        m_loaded.insert(key);
        send(QJsonDocument(load).toJson(QJsonDocument::Compact));
    }
    m_pending.insert(job, {});
    op.insert("job", job);
    op.insert("model", name);
    send(QJsonDocument(op).toJson(QJsonDocument::Compact));
    return job;
}

void WorkerClient::cancel(const QString& job) {
    if (!m_pending.contains(job) || !m_process) return;
    send(QJsonDocument(QJsonObject{{"op", "cancel"}, {"job", job}}).toJson(QJsonDocument::Compact));
}

void WorkerClient::readEvents() {
    m_tail += m_process->readAllStandardOutput();
    qsizetype nl;
    while ((nl = m_tail.indexOf('\n')) >= 0) {
        const QByteArray line = m_tail.left(nl);
        m_tail.remove(0, nl + 1);
        if (auto e = events::parse(std::string_view(line.constData(), line.size()))) onEvent(*e);
    }
}

void WorkerClient::onEvent(const events::Event& e) {
    const QString job = QString::fromStdString(e.job);
    auto it = m_pending.find(job);
    if (it == m_pending.end()) return;  // not ours, or already reported
    if (e.type == "progress") {
        if (it->loadFor.isEmpty()) Q_EMIT progress(job, e.fraction, QString::fromStdString(e.stage));
    } else if (e.type == "error") {
        it->error = e;
    } else if (e.type == "result") {
        it->result = e;
    } else if (e.type == "ended") {
        const Pending p = *it;
        m_pending.erase(it);
        const QString message = p.error ? QString::fromStdString(p.error->message) : QString();
        const QString code = p.error ? QString::fromStdString(p.error->code) : QString();
        if (!p.loadFor.isEmpty()) {
            // A failed load fails the job that waits for it, with the load's own reason.
            if (e.status != "ok") {
                m_loaded.remove(p.modelKey);  // the next job tries again
                cancel(p.loadFor);
                fail(p.loadFor, message, code);
            }
            return;
        }
        if (e.status == "ok") {
            Q_EMIT finished(job, CliOutcome::Succeeded, {}, {}, p.result);
        } else if (e.status == "cancelled") {
            Q_EMIT finished(job, CliOutcome::Cancelled, QStringLiteral("cancelled"), code, {});
        } else {
            Q_EMIT finished(job, CliOutcome::Failed, message, code, {});
        }
    }
}

void WorkerClient::fail(const QString& job, const QString& message, const QString& code) {
    if (!m_pending.remove(job)) return;
    Q_EMIT finished(job, CliOutcome::Failed, message, code, {});
}

void WorkerClient::onProcessFinished() {
    if (m_pending.isEmpty()) return;
    QString why;
    if (m_process->error() == QProcess::FailedToStart) {
        why = tr("the worker stopped (%1)").arg(m_process->errorString());
    } else if (m_process->exitStatus() == QProcess::CrashExit) {
        why = tr("the worker crashed");
    } else if (m_process->exitCode() != 0) {
        why = tr("the worker stopped (exit code %1)").arg(m_process->exitCode());
    } else {
        why = tr("the worker ended");
    }
    if (!m_stderr.isEmpty()) why += QStringLiteral(": ") + m_stderr.constLast();
    const QStringList jobs = m_pending.keys();
    for (const QString& job : jobs) {
        if (m_pending.value(job).loadFor.isEmpty()) fail(job, why, QStringLiteral("worker_died"));
    }
    m_pending.clear();
    m_loaded.clear();
    Q_EMIT workerDied(why);
}

PointCloud WorkerClient::cloudOf(const events::Event& result, const char* name) {
    const auto text = result.text(name);
    auto cloud = text ? decodeXyz(*text) : std::nullopt;
    return cloud ? std::move(*cloud) : PointCloud{};
}

}  // namespace lidistill::ui
