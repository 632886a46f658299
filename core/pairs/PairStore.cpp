// SPDX-License-Identifier: MIT
#include "core/pairs/PairStore.h"

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <sstream>
#include <utility>

namespace lidistill::pairs {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kApp = "lidistill-pairs";

// The schema, as created and as SQLite keeps its text in sqlite_master: an existing store must
// hold exactly these, so that a damaged or foreign file whose tables merely share the names
// (a pairs.id that is no longer the key, found by fuzzing) is refused, not half-read.
constexpr std::pair<const char*, const char*> kSchema[] = {
    {"meta", "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)"},
    {"pairs",
     "CREATE TABLE pairs(id INTEGER PRIMARY KEY, sequence TEXT NOT NULL, frame TEXT "
     "NOT NULL, model TEXT NOT NULL, model_hash TEXT NOT NULL, seed_a INTEGER NOT "
     "NULL, seed_b INTEGER NOT NULL, lambda REAL NOT NULL, steps INTEGER NOT NULL, "
     "guidance REAL NOT NULL, metric TEXT NOT NULL, cloud_a TEXT, cd_a REAL, jsd_a "
     "REAL, iou_a REAL, cloud_b TEXT, cd_b REAL, jsd_b REAL, iou_b REAL, "
     "auto_verdict TEXT NOT NULL, margin REAL, a_left INTEGER NOT NULL, created TEXT, "
     "raw_a TEXT, raw_b TEXT, partial TEXT, "
     "UNIQUE(sequence, frame, model_hash, seed_a, seed_b, lambda, steps, guidance))"},
    {"decisions",
     "CREATE TABLE decisions(id INTEGER PRIMARY KEY, pair_id INTEGER NOT NULL "
     "REFERENCES pairs(id), verdict TEXT NOT NULL, who TEXT, at TEXT)"},
    {"decisions_pair", "CREATE INDEX decisions_pair ON decisions(pair_id)"},
};

std::string nowIso() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::ostringstream os;
    os << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
    return os.str();
}

// One prepared statement, finalized on every path.
class Statement {
public:
    Statement(sqlite3* db, const char* sql, const fs::path& file) : m_file(file) {
        if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) {
            throw IoError(file, std::string("pair store: ") + sqlite3_errmsg(db));
        }
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, const std::string& v) {
        sqlite3_bind_text(m_stmt, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Statement& bind(int i, double v) {
        sqlite3_bind_double(m_stmt, i, v);
        return *this;
    }
    Statement& bind(int i, long long v) {
        sqlite3_bind_int64(m_stmt, i, v);
        return *this;
    }
    /// True while there is a row.
    bool step() {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw IoError(m_file, std::string("pair store: ") +
                                  sqlite3_errmsg(sqlite3_db_handle(m_stmt)));
    }
    std::string text(int c) const {
        const auto* p = sqlite3_column_text(m_stmt, c);
        return p ? reinterpret_cast<const char*>(p) : "";
    }
    double real(int c) const { return sqlite3_column_double(m_stmt, c); }
    long long integer(int c) const { return sqlite3_column_int64(m_stmt, c); }
    bool isNull(int c) const { return sqlite3_column_type(m_stmt, c) == SQLITE_NULL; }
    const fs::path& file() const { return m_file; }

private:
    sqlite3_stmt* m_stmt = nullptr;
    fs::path m_file;
};

constexpr const char* kPairColumns =
    "p.id, p.sequence, p.frame, p.model, p.model_hash, p.seed_a, p.seed_b, p.lambda, p.steps, "
    "p.guidance, p.metric, p.cloud_a, p.cd_a, p.jsd_a, p.iou_a, p.cloud_b, p.cd_b, p.jsd_b, "
    "p.iou_b, p.auto_verdict, p.margin, p.a_left, p.created, d.verdict, d.who, d.at, p.raw_a, "
    "p.raw_b, p.partial";
// The latest decision of each pair (decisions are append-only).
constexpr const char* kFromPairs =
    " FROM pairs p LEFT JOIN decisions d ON d.id = (SELECT max(id) FROM decisions WHERE "
    "pair_id = p.id)";

/// A cloud file name as stored: every reader joins it to the store's cloud folder, so a store
/// from another program or a damaged one must not name a path outside it.
std::string cloudName(const Statement& s, int c, long long id) {
    std::string name = s.text(c);
    if (!name.empty() && (name == "." || name == ".." ||
                          name.find_first_of(std::string("/\0", 2)) != std::string::npos)) {
        throw IoError(s.file(), "pair " + std::to_string(id) + " names the cloud '" + name +
                                    "', not a file of the store's cloud folder");
    }
    return name;
}

Verdict storedVerdict(const Statement& s, int c, long long id) {
    try {
        return parseVerdict(s.text(c));
    } catch (const InvalidArgument&) {
        throw IoError(s.file(), "pair " + std::to_string(id) + " holds the verdict '" + s.text(c) +
                                    "' (a, b, tie, skip or none)");
    }
}

Pair readPair(const Statement& s) {
    Pair p;
    p.id = s.integer(0);
    p.recipe.sequence = s.text(1);
    p.recipe.frame = s.text(2);
    p.recipe.model = s.text(3);
    p.recipe.modelHash = s.text(4);
    p.recipe.seedA = static_cast<std::uint64_t>(s.integer(5));
    p.recipe.seedB = static_cast<std::uint64_t>(s.integer(6));
    p.recipe.lambda = s.real(7);
    p.recipe.steps = static_cast<int>(s.integer(8));
    p.recipe.guidance = s.real(9);
    p.metric = s.text(10);
    p.a = {cloudName(s, 11, p.id), s.real(12), s.real(13), s.real(14), {}};
    p.b = {cloudName(s, 15, p.id), s.real(16), s.real(17), s.real(18), {}};
    p.automatic = storedVerdict(s, 19, p.id);
    p.margin = s.real(20);
    p.aShownLeft = s.integer(21) != 0;
    p.created = s.text(22);
    if (!s.isNull(23)) {
        p.human = storedVerdict(s, 23, p.id);
        p.who = s.text(24);
        p.decidedAt = s.text(25);
    }
    p.a.raw = cloudName(s, 26, p.id);
    p.b.raw = cloudName(s, 27, p.id);
    p.partial = cloudName(s, 28, p.id);
    return p;
}

bool isAb(Verdict v) {
    return v == Verdict::A || v == Verdict::B;
}

}  // namespace

const char* verdictName(Verdict v) {
    switch (v) {
        case Verdict::None:
            return "none";
        case Verdict::A:
            return "a";
        case Verdict::B:
            return "b";
        case Verdict::Tie:
            return "tie";
        case Verdict::Skip:
            return "skip";
    }
    return "none";
}

Verdict parseVerdict(const std::string& w) {
    if (w == "none") return Verdict::None;
    if (w == "a") return Verdict::A;
    if (w == "b") return Verdict::B;
    if (w == "tie") return Verdict::Tie;
    if (w == "skip") return Verdict::Skip;
    throw InvalidArgument("a verdict is a, b, tie, skip or none, not '" + w + "'");
}

Verdict Pair::effective() const {
    if (human == Verdict::A || human == Verdict::B || human == Verdict::Tie) return human;
    if (human == Verdict::Skip) return Verdict::Skip;
    return automatic;
}

double Stats::agreement() const {
    const long long n = agreeing + overridden;
    return n > 0 ? static_cast<double>(agreeing) / static_cast<double>(n)
                 : std::numeric_limits<double>::quiet_NaN();
}

struct PairStore::Impl {
    fs::path file;
    sqlite3* db = nullptr;
    ~Impl() {
        if (db) sqlite3_close_v2(db);
    }
    void exec(const char* sql) const {
        char* err = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            const std::string why = err ? err : "error";
            sqlite3_free(err);
            throw IoError(file, "pair store: " + why);
        }
    }
};

PairStore::PairStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
PairStore::PairStore(PairStore&&) noexcept = default;
PairStore& PairStore::operator=(PairStore&&) noexcept = default;
PairStore::~PairStore() = default;

const fs::path& PairStore::file() const noexcept {
    return m_impl->file;
}

fs::path PairStore::cloudDir() const {
    return fs::path(m_impl->file.string() + ".clouds");
}

PairStore PairStore::open(const fs::path& file, bool create) {
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    const bool existed = fs::exists(file);
    if (!existed && !create) throw IoError(file, "no such pair store");
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(file.c_str(), &impl->db, flags, nullptr) != SQLITE_OK) {
        throw IoError(file, std::string("cannot open the pair store: ") +
                                (impl->db ? sqlite3_errmsg(impl->db) : "out of memory"));
    }
    // Another process may hold the write lock for a moment: wait, do not fail.
    sqlite3_busy_timeout(impl->db, 30000);
    try {
        // Not a database at all (a PLY picked by mistake) fails on the first statement.
        long long n = 0;
        {
            Statement tables(impl->db, "SELECT count(*) FROM sqlite_master", file);
            tables.step();
            n = tables.integer(0);
        }  // finalized: WAL mode cannot be set while a statement reads
        if (n == 0) {
            if (existed && fs::file_size(file) > 0) {
                throw IoError(file, "not a pair store (an empty SQLite database of another "
                                    "program?)");
            }
            impl->exec("PRAGMA journal_mode=WAL");
            std::string schema = "BEGIN IMMEDIATE;";
            for (const auto& [name, sql] : kSchema) schema += std::string(sql) + ";";
            impl->exec((schema + "COMMIT;").c_str());
            Statement meta(impl->db, "INSERT INTO meta(key, value) VALUES ('app', ?1), "
                                     "('schema_version', ?2)",
                           file);
            meta.bind(1, std::string(kApp)).bind(2, std::to_string(kSchemaVersion));
            meta.step();
        } else {
            std::string app, version;
            try {
                Statement meta(impl->db, "SELECT key, value FROM meta", file);
                while (meta.step()) {
                    if (meta.text(0) == "app") app = meta.text(1);
                    if (meta.text(0) == "schema_version") version = meta.text(1);
                }
            } catch (const IoError&) {
                throw IoError(file, "not a pair store (a SQLite database of another program)");
            }
            if (app != kApp) throw IoError(file, "not a pair store (app '" + app + "')");
            if (version != std::to_string(kSchemaVersion)) {
                throw IoError(file, "pair store of schema version " + version + "; this lidistill "
                                    "reads version " + std::to_string(kSchemaVersion) +
                                    " (the file is left as it is)");
            }
            for (const auto& [name, sql] : kSchema) {
                Statement def(impl->db, "SELECT sql FROM sqlite_master WHERE name=?1", file);
                def.bind(1, std::string(name));
                if (!def.step() || def.text(0) != sql) {
                    throw IoError(file, std::string("damaged pair store: the definition of '") +
                                            name + "' is not that of schema version " +
                                            std::to_string(kSchemaVersion) +
                                            " (the file is left as it is)");
                }
            }
            // A damaged B-tree (keys out of order, a page that does not parse) reads differently
            // by scan and by key: list() and get() would disagree about a pair (found by
            // fuzzing). SQLite checks that only when asked; stores are small, so ask at open.
            std::string verdict = "no answer";
            try {
                Statement check(impl->db, "PRAGMA integrity_check(1)", file);
                if (check.step()) verdict = check.text(0);
            } catch (const IoError&) {
                verdict = sqlite3_errmsg(impl->db);  // a page too broken to check at all
            }
            if (verdict != "ok") {
                std::string said = verdict.substr(0, 200);
                for (char& c : said) c = c == '\n' ? ' ' : c;
                throw IoError(file, "damaged pair store: SQLite's integrity check reports '" +
                                        said + "' (the file is left as it is)");
            }
        }
    } catch (const IoError& e) {
        if (std::string(e.what()).find("file is not a database") != std::string::npos) {
            throw IoError(file, "not a pair store (not an SQLite database)");
        }
        throw;
    }
    // A decision is on disk when decide() returns, even if the machine goes down after.
    impl->exec("PRAGMA synchronous=FULL");
    impl->exec("PRAGMA foreign_keys=ON");
    return PairStore(std::move(impl));
}

std::optional<long long> PairStore::find(const Recipe& r) const {
    Statement s(m_impl->db,
                "SELECT id FROM pairs WHERE sequence=?1 AND frame=?2 AND model_hash=?3 AND "
                "seed_a=?4 AND seed_b=?5 AND lambda=?6 AND steps=?7 AND guidance=?8",
                m_impl->file);
    s.bind(1, r.sequence).bind(2, r.frame).bind(3, r.modelHash);
    s.bind(4, static_cast<long long>(r.seedA)).bind(5, static_cast<long long>(r.seedB));
    s.bind(6, r.lambda).bind(7, static_cast<long long>(r.steps)).bind(8, r.guidance);
    if (s.step()) return s.integer(0);
    return std::nullopt;
}

long long PairStore::add(const Pair& p) {
    for (const auto* name : {&p.a.cloud, &p.b.cloud, &p.a.raw, &p.b.raw, &p.partial}) {
        // What readers refuse (readPair) is not stored in the first place.
        if (*name == "." || *name == ".." || name->find_first_of(std::string("/\0", 2)) != std::string::npos) {
            throw InvalidArgument("pair store: '" + *name + "' is not a file name in the cloud folder");
        }
    }
    if (auto id = find(p.recipe)) return *id;
    const auto& r = p.recipe;
    Statement s(m_impl->db,
                "INSERT OR IGNORE INTO pairs(sequence, frame, model, model_hash, seed_a, seed_b, "
                "lambda, steps, guidance, metric, cloud_a, cd_a, jsd_a, iou_a, cloud_b, cd_b, "
                "jsd_b, iou_b, auto_verdict, margin, a_left, created, raw_a, raw_b, partial) VALUES "
                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
                "?19, ?20, ?21, ?22, ?23, ?24, ?25)",
                m_impl->file);
    s.bind(1, r.sequence).bind(2, r.frame).bind(3, r.model).bind(4, r.modelHash);
    s.bind(5, static_cast<long long>(r.seedA)).bind(6, static_cast<long long>(r.seedB));
    s.bind(7, r.lambda).bind(8, static_cast<long long>(r.steps)).bind(9, r.guidance);
    s.bind(10, p.metric);
    s.bind(11, p.a.cloud).bind(12, p.a.cd).bind(13, p.a.jsd).bind(14, p.a.iou);
    s.bind(15, p.b.cloud).bind(16, p.b.cd).bind(17, p.b.jsd).bind(18, p.b.iou);
    s.bind(19, std::string(verdictName(p.automatic))).bind(20, p.margin);
    s.bind(21, static_cast<long long>(p.aShownLeft ? 1 : 0));
    s.bind(22, p.created.empty() ? nowIso() : p.created);
    s.bind(23, p.a.raw).bind(24, p.b.raw).bind(25, p.partial);
    s.step();
    if (auto id = find(r)) return *id;  // ours, or a concurrent writer's identical pair
    throw IoError(m_impl->file, "pair store: the pair was not stored");
}

void PairStore::decide(long long id, Verdict verdict, const std::string& who) {
    if (!get(id)) throw InvalidArgument("no pair " + std::to_string(id) + " in the store");
    Statement s(m_impl->db, "INSERT INTO decisions(pair_id, verdict, who, at) VALUES (?1, ?2, "
                            "?3, ?4)",
                m_impl->file);
    s.bind(1, id).bind(2, std::string(verdictName(verdict))).bind(3, who).bind(4, nowIso());
    s.step();
}

std::optional<Pair> PairStore::get(long long id) const {
    const std::string sql = std::string("SELECT ") + kPairColumns + kFromPairs + " WHERE p.id=?1";
    Statement s(m_impl->db, sql.c_str(), m_impl->file);
    s.bind(1, id);
    if (s.step()) return readPair(s);
    return std::nullopt;
}

std::vector<Pair> PairStore::list(Filter filter) const {
    const std::string sql = std::string("SELECT ") + kPairColumns + kFromPairs + " ORDER BY p.id";
    Statement s(m_impl->db, sql.c_str(), m_impl->file);
    std::vector<Pair> out;
    while (s.step()) {
        Pair p = readPair(s);
        const bool decided = p.human != Verdict::None;
        const bool ab = isAb(p.human) && isAb(p.automatic);
        bool keep = true;
        switch (filter) {
            case Filter::All:
                break;
            case Filter::Pending:
                keep = !decided;
                break;
            case Filter::Decided:
                keep = decided;
                break;
            case Filter::Agreeing:
                keep = ab && p.human == p.automatic;
                break;
            case Filter::Overridden:
                keep = ab && p.human != p.automatic;
                break;
        }
        if (keep) out.push_back(std::move(p));
    }
    return out;
}

Stats PairStore::stats() const {
    Stats st;
    {
        Statement count(m_impl->db, "SELECT count(*) FROM decisions", m_impl->file);
        count.step();
        st.decisions = count.integer(0);
    }
    for (const Pair& p : list()) {
        ++st.pairs;
        if (p.human == Verdict::None) {
            ++st.pending;
            continue;
        }
        ++st.decided;
        if (p.human == Verdict::Skip) ++st.skipped;
        if (p.human == Verdict::Tie) ++st.ties;
        if (isAb(p.human) && isAb(p.automatic)) {
            (p.human == p.automatic ? st.agreeing : st.overridden) += 1;
        }
    }
    return st;
}

void PairStore::exportJsonl(const fs::path& out) const {
    const auto pairs = list();
    writeStreamAtomically(out, [&](std::ostream& os) {
        for (const Pair& p : pairs) {
            const Verdict v = p.effective();
            if (!isAb(v)) continue;
            const Candidate& chosen = v == Verdict::A ? p.a : p.b;
            const Candidate& rejected = v == Verdict::A ? p.b : p.a;
            const Json j{{"prompt", p.recipe.sequence + "/" + p.recipe.frame},
                         {"chosen", (cloudDir() / chosen.cloud).string()},
                         {"rejected", (cloudDir() / rejected.cloud).string()},
                         {"source", isAb(p.human) ? "human" : "metric"},
                         {"pair", p.id},
                         {"sequence", p.recipe.sequence},
                         {"frame", p.recipe.frame},
                         {"model", p.recipe.model},
                         {"model_hash", p.recipe.modelHash},
                         {"steps", p.recipe.steps},
                         {"guidance", p.recipe.guidance},
                         {"seeds", {p.recipe.seedA, p.recipe.seedB}},
                         {"lambda", p.recipe.lambda},
                         {"metric", p.metric},
                         {"margin", p.margin},
                         {"chosen_cd", chosen.cd},
                         {"rejected_cd", rejected.cd}};
            // Text from another program may not be UTF-8: written with U+FFFD, not refused.
            os << j.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
        }
    });
}

void PairStore::exportCsv(const fs::path& out) const {
    const auto pairs = list();
    auto quoted = [](const std::string& s) {
        std::string q = "\"";
        for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
    };
    writeStreamAtomically(out, [&](std::ostream& os) {
        os << "id,sequence,frame,model,steps,guidance,seed_a,seed_b,lambda,metric,cd_a,cd_b,"
              "jsd_a,jsd_b,iou_a,iou_b,auto_verdict,margin,human_verdict,who,decided_at\n";
        os << std::setprecision(10);
        for (const Pair& p : pairs) {
            const auto& r = p.recipe;
            os << p.id << ',' << quoted(r.sequence) << ',' << quoted(r.frame) << ','
               << quoted(r.model) << ',' << r.steps << ',' << r.guidance << ',' << r.seedA << ','
               << r.seedB << ',' << r.lambda << ',' << p.metric << ',' << p.a.cd << ','
               << p.b.cd << ',' << p.a.jsd << ',' << p.b.jsd << ',' << p.a.iou << ','
               << p.b.iou << ',' << verdictName(p.automatic) << ',' << p.margin << ','
               << verdictName(p.human) << ',' << quoted(p.who) << ',' << p.decidedAt << '\n';
        }
    });
}

}  // namespace lidistill::pairs
