// The job store on Poco::Data. One connection, used under one mutex: the host's own callers are
// few (HTTP threads, one worker), and between hosts PostgreSQL's row locks do the arbitration.
#include "jobs/job_store.h"

#include <cctype>
#include <filesystem>
#include <sstream>

#include <Poco/Data/PostgreSQL/Connector.h>
#include <Poco/Data/RecordSet.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Exception.h>

#include "common/json_limits.h"

namespace omnihost::jobs {
namespace {

using namespace Poco::Data::Keywords;
using Poco::Data::RecordSet;
using Poco::Data::Statement;

// Column order of every full-row SELECT (row_to_record reads them by these indices).
constexpr const char *kColumns =
    "seq, id, task, model, request, state, created_ms, started_ms, finished_ms, step, total, phase, message, "
    "eta_ms, error, output_path, output_mime, output_bytes, output_evicted, metadata, worker, attempts, "
    "cancel_requested, error_status";

constexpr const char *kSchemaTail =
    "id TEXT NOT NULL UNIQUE, task TEXT NOT NULL, model TEXT NOT NULL, request TEXT NOT NULL, "
    "state TEXT NOT NULL, created_ms BIGINT NOT NULL, started_ms BIGINT NOT NULL DEFAULT 0, "
    "finished_ms BIGINT NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, "
    "phase TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '', eta_ms BIGINT NOT NULL DEFAULT -1, "
    "error TEXT NOT NULL DEFAULT '', output_path TEXT NOT NULL DEFAULT '', output_mime TEXT NOT NULL DEFAULT '', "
    "output_bytes BIGINT NOT NULL DEFAULT 0, output_evicted INTEGER NOT NULL DEFAULT 0, "
    "metadata TEXT NOT NULL DEFAULT '{}', worker TEXT NOT NULL DEFAULT '', lease_until_ms BIGINT NOT NULL DEFAULT 0, "
    "attempts INTEGER NOT NULL DEFAULT 0, cancel_requested INTEGER NOT NULL DEFAULT 0, "
    "error_status INTEGER NOT NULL DEFAULT 0)";

nlohmann::json parse_stored_json(const std::string &text) {
    auto parsed = parse_json_bounded_or_discarded(text);
    return parsed.is_discarded() ? nlohmann::json::object() : parsed;
}

int64_t as_int(const RecordSet &rs, std::size_t col, std::size_t row) {
    const Poco::Dynamic::Var v = rs.value(col, row);
    if (v.isEmpty()) return 0;
    return v.convert<Poco::Int64>();
}

std::string as_text(const RecordSet &rs, std::size_t col, std::size_t row) {
    const Poco::Dynamic::Var v = rs.value(col, row);
    if (v.isEmpty()) return "";
    return v.convert<std::string>();
}

stored_job row_to_record(const RecordSet &rs, std::size_t row, int64_t *seq) {
    stored_job job;
    if (seq) *seq = as_int(rs, 0, row);
    job.id = as_text(rs, 1, row);
    job.task = as_text(rs, 2, row);
    job.model = as_text(rs, 3, row);
    job.request = parse_stored_json(as_text(rs, 4, row));
    job.state = parse_job_state(as_text(rs, 5, row)).value_or(job_phase::Failed);
    job.created_ms = as_int(rs, 6, row);
    job.started_ms = as_int(rs, 7, row);
    job.finished_ms = as_int(rs, 8, row);
    job.progress.step = static_cast<int32_t>(as_int(rs, 9, row));
    job.progress.total = static_cast<int32_t>(as_int(rs, 10, row));
    job.progress.phase = as_text(rs, 11, row);
    job.progress.message = as_text(rs, 12, row);
    const int64_t eta_ms = as_int(rs, 13, row);
    job.progress.eta_s = eta_ms < 0 ? -1.0 : static_cast<double>(eta_ms) / 1000.0;
    job.error = as_text(rs, 14, row);
    job.output.path = as_text(rs, 15, row);
    job.output.mime_type = as_text(rs, 16, row);
    job.output.bytes = as_int(rs, 17, row);
    job.output.evicted = as_int(rs, 18, row) != 0;
    job.metadata = parse_stored_json(as_text(rs, 19, row));
    job.worker = as_text(rs, 20, row);
    job.attempts = static_cast<int32_t>(as_int(rs, 21, row));
    job.cancel_requested = as_int(rs, 22, row) != 0;
    job.error_status = static_cast<int>(as_int(rs, 23, row));
    return job;
}

std::string in_list(const std::vector<std::string> &values) {
    // Task names are from a fixed set, checked by the caller; quoted defensively anyway.
    std::string out;
    for (const auto &v : values) {
        std::string quoted = "'";
        for (char c : v) quoted += c == '\'' ? std::string("''") : std::string(1, c);
        out += (out.empty() ? "" : ",") + quoted + "'";
    }
    return out.empty() ? "''" : out;
}

std::string percent_decode(const std::string &text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
            out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

// A libpq key=value string (what Poco's connector accepts) from a postgresql:// URI:
// postgresql://[user[:password]@][host][:port][/dbname][?key=value&...].
std::string libpq_keywords(const std::string &uri) {
    std::string rest = uri.substr(uri.find("://") + 3);
    std::string params;
    if (const auto q = rest.find('?'); q != std::string::npos) {
        params = rest.substr(q + 1);
        rest.resize(q);
    }
    std::string dbname;
    if (const auto slash = rest.find('/'); slash != std::string::npos) {
        dbname = rest.substr(slash + 1);
        rest.resize(slash);
    }
    std::string user, password;
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
        user = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (const auto colon = user.find(':'); colon != std::string::npos) {
            password = user.substr(colon + 1);
            user.resize(colon);
        }
    }
    std::string host = rest, port;
    if (!host.empty() && host.front() == '[') { // [::1]:5432
        const auto close = host.find(']');
        if (close != std::string::npos) {
            if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
            host = host.substr(1, close - 1);
        }
    } else if (const auto colon = host.rfind(':'); colon != std::string::npos) {
        port = host.substr(colon + 1);
        host.resize(colon);
    }
    // Quoted only when needed: plain values pass through every parser of the string unchanged.
    auto quote = [](const std::string &value) {
        if (!value.empty() && value.find_first_of(" '\\") == std::string::npos) return value;
        std::string out = "'";
        for (char c : value) {
            if (c == '\\' || c == '\'') out += '\\';
            out += c;
        }
        return out + "'";
    };
    std::string out;
    auto add = [&](const std::string &key, const std::string &value) {
        if (!value.empty()) out += (out.empty() ? "" : " ") + key + "=" + quote(percent_decode(value));
    };
    add("host", host);
    add("port", port);
    add("dbname", dbname);
    add("user", user);
    add("password", password);
    std::size_t start = 0;
    while (start < params.size()) {
        auto amp = params.find('&', start);
        if (amp == std::string::npos) amp = params.size();
        const std::string pair = params.substr(start, amp - start);
        if (const auto eq = pair.find('='); eq != std::string::npos) add(pair.substr(0, eq), pair.substr(eq + 1));
        start = amp + 1;
    }
    return out;
}

void register_connectors() {
    static std::once_flag once;
    std::call_once(once, [] {
        Poco::Data::SQLite::Connector::registerConnector();
        Poco::Data::PostgreSQL::Connector::registerConnector();
    });
}

// A libpq URI without its password, for logs.
std::string redact_uri(const std::string &uri) {
    const auto scheme = uri.find("://");
    const auto at = uri.find('@');
    if (scheme == std::string::npos || at == std::string::npos || at < scheme) return uri;
    const auto colon = uri.find(':', scheme + 3);
    if (colon == std::string::npos || colon > at) return uri;
    return uri.substr(0, colon) + ":***" + uri.substr(at);
}

} // namespace

job_database::job_database(const std::string &database, const std::string &default_sqlite_path) {
    register_connectors();
    if (database.rfind("postgresql://", 0) == 0 || database.rfind("postgres://", 0) == 0) {
        postgres_ = true;
        connector_ = "PostgreSQL";
        connection_ = libpq_keywords(database);
        description_ = "PostgreSQL " + redact_uri(database);
    } else {
        // "mysql://..." or a mistyped "postgresq://..." is not a file name: taken as one it would
        // quietly create a SQLite file under a folder named after the scheme.
        if (database.rfind("sqlite:", 0) != 0 && database.find("://") != std::string::npos)
            throw store_error("job database " + redact_uri(database) +
                             ": unsupported; use sqlite:PATH, a file path or postgresql://user@host:port/db");
        std::string path = database.rfind("sqlite:", 0) == 0 ? database.substr(7) : database;
        if (path.empty()) path = default_sqlite_path;
        connector_ = "SQLite";
        connection_ = path;
        description_ = "SQLite " + path;
        std::error_code ec;
        const std::filesystem::path folder = std::filesystem::path(path).parent_path();
        if (!folder.empty()) {
            std::filesystem::create_directories(folder, ec);
            // Poco retries a failed SQLite open for its whole login timeout (a minute): a folder
            // that cannot hold the file is answered now, by name.
            if (!std::filesystem::is_directory(folder, ec))
                throw store_error("job database " + description_ + ": " + folder.string() + " is not a folder we can create");
        }
    }
    try {
        // A short login timeout for SQLite: its open fails for good (no server to wait for).
        session_ = postgres_ ? std::make_unique<Poco::Data::Session>(connector_, connection_)
                             : std::make_unique<Poco::Data::Session>(connector_, connection_, std::size_t{2});
        if (!postgres_) {
            // WAL: readers never wait for the writer; NORMAL sync is durable across a process
            // kill (only an OS crash may lose the last commits).
            *session_ << "PRAGMA journal_mode=WAL", now;
            *session_ << "PRAGMA synchronous=NORMAL", now;
            *session_ << "PRAGMA busy_timeout=5000", now;
        }
        create_schema();
        // A database we can read but not write (read-only file or mount, a read-only PostgreSQL
        // role or replica) would start a host that lists history but refuses every submit:
        // refuse the start instead. A DELETE matching nothing still needs the write permission.
        *session_ << "DELETE FROM omnihost_jobs WHERE 1 = 0", now;
    } catch (const Poco::Exception &e) {
        throw store_error("job database " + description_ + ": " + e.displayText());
    }
}

job_database::~job_database() = default;

std::string job_database::describe() const { return description_; }

std::string job_database::sql(const std::string &text) const {
    if (!postgres_) return text;
    std::string out;
    int n = 0;
    bool in_quote = false;
    for (char c : text) {
        if (c == '\'') in_quote = !in_quote;
        if (c == '?' && !in_quote) {
            out += '$';
            out += std::to_string(++n);
        }
        else out += c;
    }
    return out;
}

void job_database::notify(Poco::Data::Session &s, const std::string &kind, const std::string &id) {
    if (!postgres_) return;
    // Delivered at the commit of the surrounding transaction (at once outside one).
    s << "SELECT pg_notify('" + std::string(kNotifyChannel) + "', $1)", bind(kind + " " + origin_ + " " + id), now;
}

template <typename F> auto job_database::locked(F &&body) {
    std::lock_guard lock(mutex_);
    try {
        if (!session_) session_ = std::make_unique<Poco::Data::Session>(connector_, connection_);
        return body(*session_);
    } catch (const Poco::Exception &e) {
        try {
            if (session_ && session_->isTransaction()) session_->rollback();
        } catch (...) {
        }
        // A lost PostgreSQL connection is made again on the next call.
        if (postgres_ && session_ && !session_->isConnected()) session_.reset();
        throw store_error("job database " + description_ + ": " + e.displayText());
    }
}

void job_database::create_schema() {
    Poco::Data::Session &s = *session_;
    if (postgres_) {
        // Two hosts starting at once must not race on CREATE TABLE.
        s << "SELECT pg_advisory_lock(7261001)", now;
        s << std::string("CREATE TABLE IF NOT EXISTS omnihost_jobs (seq BIGSERIAL PRIMARY KEY, ") + kSchemaTail, now;
    } else {
        s << std::string("CREATE TABLE IF NOT EXISTS omnihost_jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, ") + kSchemaTail, now;
    }
    s << "CREATE INDEX IF NOT EXISTS omnihost_jobs_state ON omnihost_jobs (state, seq)", now;
    s << "CREATE INDEX IF NOT EXISTS omnihost_jobs_finished ON omnihost_jobs (finished_ms)", now;
    // A task's history in order (the /v1/videos list pages it by keyset on seq).
    s << "CREATE INDEX IF NOT EXISTS omnihost_jobs_task ON omnihost_jobs (task, seq)", now;
    if (postgres_) s << "SELECT pg_advisory_unlock(7261001)", now;
}

namespace {
std::string db_now_ms(bool postgres) {
    return postgres ? "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"
                    : "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
}
} // namespace

submit_result job_database::insert(const stored_job &job, int64_t max_queued) {
    return locked([&](Poco::Data::Session &s) {
        submit_result result;
        result.id = job.id;
        s.begin();
        // Between hosts the depth check and the insert are one step: a transaction-wide lock.
        if (postgres_) s << "SELECT pg_advisory_xact_lock(7261002)", now;
        Poco::Int64 queued = 0;
        s << "SELECT COUNT(*) FROM omnihost_jobs WHERE state = 'queued'", into(queued), now;
        if (max_queued > 0 && queued >= max_queued) {
            s.rollback();
            result.http_status = 429;
            result.error = "the job queue is full (" + std::to_string(queued) + " queued, --queue-depth " +
                           std::to_string(max_queued) + "); try again later";
            return result;
        }
        Poco::Int64 used = 0;
        s << sql("SELECT COUNT(*) FROM omnihost_jobs WHERE id = ?"), bind(job.id), into(used), now;
        if (used > 0) {
            s.rollback();
            result.http_status = 409;
            result.field = "job_id";
            result.error = "job_id: '" + job.id + "' is already used by another job";
            return result;
        }
        s << sql("INSERT INTO omnihost_jobs (id, task, model, request, state, created_ms) VALUES (?, ?, ?, ?, 'queued', ?)"),
            bind(job.id), bind(job.task), bind(job.model), bind(job.request.dump()),
            bind(static_cast<Poco::Int64>(job.created_ms)), now;
        notify(s, "queued", job.id);
        s.commit();
        result.position = queued + 1;
        return result;
    });
}

std::optional<stored_job> job_database::get(const std::string &id) {
    return locked([&](Poco::Data::Session &s) -> std::optional<stored_job> {
        Statement st(s);
        st << sql(std::string("SELECT ") + kColumns + " FROM omnihost_jobs WHERE id = ?"), bind(id);
        st.execute();
        RecordSet rs(st);
        if (rs.rowCount() == 0) return std::nullopt;
        stored_job job = row_to_record(rs, 0, nullptr);
        if (job.state == job_phase::Queued) {
            Poco::Int64 ahead = 0;
            s << sql("SELECT COUNT(*) FROM omnihost_jobs WHERE state = 'queued' AND seq <= (SELECT seq FROM omnihost_jobs WHERE id = ?)"),
                bind(id), into(ahead), now;
            job.position = ahead;
        }
        return job;
    });
}

job_page job_database::list(const job_query &query) {
    return locked([&](Poco::Data::Session &s) {
        job_page page;
        std::string where = " WHERE 1=1";
        if (query.state) where += std::string(" AND state = '") + job_state_name(*query.state) + "'";
        if (!query.task.empty()) where += " AND task IN (" + in_list({query.task}) + ")";
        if (query.with_total) {
            Poco::Int64 total = 0;
            s << "SELECT COUNT(*) FROM omnihost_jobs" + where, into(total), now;
            page.total = total;
        }
        std::string paged = where;
        if (query.before > 0) paged += " AND seq < " + std::to_string(query.before);
        if (!query.after_id.empty()) {
            std::vector<Poco::Int64> cursor;
            s << sql("SELECT seq FROM omnihost_jobs" + where + " AND id = ?"), bind(query.after_id), into(cursor), now;
            if (cursor.empty()) {
                page.after_unknown = true;
                return page;
            }
            paged += (query.ascending ? " AND seq > " : " AND seq < ") + std::to_string(cursor.front());
        }
        const int limit = std::clamp(query.limit, 1, 500);
        Statement st(s);
        // One row more than asked tells whether another page follows.
        st << std::string("SELECT ") + kColumns + " FROM omnihost_jobs" + paged + " ORDER BY seq " +
                  (query.ascending ? "ASC" : "DESC") + " LIMIT " + std::to_string(limit + 1);
        st.execute();
        RecordSet rs(st);
        bool any_queued = false;
        int64_t last_seq = 0;
        for (std::size_t row = 0; row < rs.rowCount() && static_cast<int>(row) < limit; ++row) {
            int64_t seq = 0;
            page.items.push_back(row_to_record(rs, row, &seq));
            if (!query.with_request) {
                // Keep the caption fields; drop the rest of the request.
                nlohmann::json slim = nlohmann::json::object();
                for (const char *key : {"prompt", "text", "seed"})
                    if (page.items.back().request.contains(key)) slim[key] = page.items.back().request[key];
                page.items.back().request = std::move(slim);
            }
            any_queued = any_queued || page.items.back().state == job_phase::Queued;
            last_seq = seq;
        }
        page.has_more = static_cast<int>(rs.rowCount()) > limit;
        if (page.has_more && !query.ascending) page.next_before = last_seq;
        if (any_queued) {
            std::vector<std::string> order;
            s << "SELECT id FROM omnihost_jobs WHERE state = 'queued' ORDER BY seq", into(order), now;
            for (auto &job : page.items)
                if (job.state == job_phase::Queued)
                    for (std::size_t i = 0; i < order.size(); ++i)
                        if (order[i] == job.id) job.position = static_cast<int64_t>(i + 1);
        }
        return page;
    });
}

int64_t job_database::count_queued() {
    return locked([&](Poco::Data::Session &s) {
        Poco::Int64 queued = 0;
        s << "SELECT COUNT(*) FROM omnihost_jobs WHERE state = 'queued'", into(queued), now;
        return static_cast<int64_t>(queued);
    });
}

int64_t job_database::position_of(const std::string &id) {
    auto job = get(id);
    return job ? job->position : 0;
}

std::optional<stored_job> job_database::claim(const claim_filter &filter, const std::string &worker, int64_t lease_ms) {
    return locked([&](Poco::Data::Session &s) -> std::optional<stored_job> {
        s.begin();
        std::vector<std::string> ids;
        const std::string pick = "SELECT id FROM omnihost_jobs WHERE state = 'queued' AND model = ? AND task IN (" +
                                 in_list(filter.tasks) + ")" +
                                 (filter.created_at_most > 0 ? " AND created_ms <= " + std::to_string(filter.created_at_most) : "") +
                                 " ORDER BY seq LIMIT 1" + (postgres_ ? " FOR UPDATE SKIP LOCKED" : "");
        s << sql(pick), bind(filter.model), into(ids), now;
        if (ids.empty()) {
            s.commit();
            return std::nullopt;
        }
        const std::string id = ids.front();
        s << sql("UPDATE omnihost_jobs SET state = 'running', worker = ?, attempts = attempts + 1, started_ms = ?, "
                 "step = 0, total = 0, phase = '', message = '', eta_ms = -1, lease_until_ms = " +
                 db_now_ms(postgres_) + " + ? WHERE id = ?"),
            bind(worker), bind(static_cast<Poco::Int64>(now_epoch_ms())), bind(static_cast<Poco::Int64>(lease_ms)),
            bind(id), now;
        Statement st(s);
        st << sql(std::string("SELECT ") + kColumns + " FROM omnihost_jobs WHERE id = ?"), bind(id);
        st.execute();
        RecordSet rs(st);
        notify(s, "running", id);
        s.commit();
        if (rs.rowCount() == 0) return std::nullopt;
        return row_to_record(rs, 0, nullptr);
    });
}

void job_database::unclaim(const std::string &id, const std::string &worker) {
    locked([&](Poco::Data::Session &s) {
        s << sql("UPDATE omnihost_jobs SET state = 'queued', worker = '', attempts = attempts - 1, started_ms = 0, "
                 "lease_until_ms = 0 WHERE id = ? AND worker = ? AND state = 'running'"),
            bind(id), bind(worker), now;
        return 0;
    });
}

lease_state job_database::renew(const std::string &id, const std::string &worker, int64_t lease_ms, const job_progress_info &progress) {
    return locked([&](Poco::Data::Session &s) {
        lease_state lease;
        const Poco::Int64 eta_ms = progress.eta_s < 0 ? -1 : static_cast<Poco::Int64>(progress.eta_s * 1000.0);
        Statement update(s);
        update << sql("UPDATE omnihost_jobs SET lease_until_ms = " + db_now_ms(postgres_) +
                      " + ?, step = ?, total = ?, phase = ?, message = ?, eta_ms = ? "
                      "WHERE id = ? AND worker = ? AND state = 'running'"),
            bind(static_cast<Poco::Int64>(lease_ms)), bind(progress.step), bind(progress.total), bind(progress.phase),
            bind(progress.message), bind(eta_ms), bind(id), bind(worker);
        const std::size_t changed = update.execute();
        lease.held = changed > 0;
        if (lease.held) {
            Poco::Int64 cancel = 0;
            s << sql("SELECT cancel_requested FROM omnihost_jobs WHERE id = ?"), bind(id), into(cancel), now;
            lease.cancel_requested = cancel != 0;
            notify(s, "progress", id);
        }
        return lease;
    });
}

bool job_database::finish(const std::string &id, const std::string &worker, job_phase state, const std::string &error,
                      int error_status, const job_output &output, const nlohmann::json &metadata) {
    return locked([&](Poco::Data::Session &s) {
        Statement update(s);
        update << sql("UPDATE omnihost_jobs SET state = ?, error = ?, error_status = ?, output_path = ?, output_mime = ?, output_bytes = ?, "
                      "metadata = ?, finished_ms = ?, lease_until_ms = 0, eta_ms = -1 "
                      "WHERE id = ? AND worker = ? AND state = 'running'"),
            bind(std::string(job_state_name(state))), bind(error), bind(error_status), bind(output.path), bind(output.mime_type),
            bind(static_cast<Poco::Int64>(output.bytes)), bind(metadata.dump()),
            bind(static_cast<Poco::Int64>(now_epoch_ms())), bind(id), bind(worker);
        const bool ours = update.execute() > 0;
        if (ours) notify(s, job_state_name(state), id);
        return ours;
    });
}

job_cancel_outcome job_database::cancel(const std::string &id) {
    return locked([&](Poco::Data::Session &s) {
        s.begin();
        // The row stays locked (PostgreSQL) until the commit: no other host's worker moves the
        // job between our look at its state and our change.
        std::vector<std::string> states;
        s << sql(std::string("SELECT state FROM omnihost_jobs WHERE id = ?") + (postgres_ ? " FOR UPDATE" : "")),
            bind(id), into(states), now;
        job_cancel_outcome outcome = job_cancel_outcome::NotFound;
        const auto state = states.empty() ? std::nullopt : parse_job_state(states.front());
        if (!states.empty() && (!state || is_terminal(*state))) {
            outcome = job_cancel_outcome::AlreadyFinished;
        } else if (state == job_phase::Queued) {
            s << sql("UPDATE omnihost_jobs SET state = 'cancelled', error = 'cancelled', error_status = 409, "
                     "cancel_requested = 1, finished_ms = ? WHERE id = ?"),
                bind(static_cast<Poco::Int64>(now_epoch_ms())), bind(id), now;
            outcome = job_cancel_outcome::Cancelled;
            notify(s, "cancelled", id);
        } else if (state == job_phase::Running) {
            s << sql("UPDATE omnihost_jobs SET cancel_requested = 1 WHERE id = ?"), bind(id), now;
            outcome = job_cancel_outcome::CancelRequested;
        }
        s.commit();
        return outcome;
    });
}

remove_outcome job_database::remove_finished(const std::string &id, std::string *output_path) {
    return locked([&](Poco::Data::Session &s) {
        s.begin();
        std::vector<std::string> states, paths;
        s << sql(std::string("SELECT state, output_path FROM omnihost_jobs WHERE id = ?") + (postgres_ ? " FOR UPDATE" : "")),
            bind(id), into(states), into(paths), now;
        if (states.empty()) {
            s.commit();
            return remove_outcome::NotFound;
        }
        const auto state = parse_job_state(states.front());
        if (state && !is_terminal(*state)) {
            s.commit();
            return remove_outcome::NotFinished;
        }
        s << sql("DELETE FROM omnihost_jobs WHERE id = ?"), bind(id), now;
        notify(s, "removed", id);
        s.commit();
        if (output_path) *output_path = paths.front();
        return remove_outcome::Removed;
    });
}

reap_result job_database::reap(int max_attempts, bool all_running) {
    return locked([&](Poco::Data::Session &s) {
        reap_result result;
        const std::string expired = all_running ? "state = 'running'"
                                                : "state = 'running' AND lease_until_ms < " + db_now_ms(postgres_);
        s.begin();
        std::vector<std::string> ids;
        std::vector<Poco::Int64> cancels;
        std::vector<Poco::Int64> attempts;
        s << "SELECT id, cancel_requested, attempts FROM omnihost_jobs WHERE " + expired +
                 (postgres_ ? " FOR UPDATE SKIP LOCKED" : ""),
            into(ids), into(cancels), into(attempts), now;
        const Poco::Int64 finished = now_epoch_ms();
        for (std::size_t i = 0; i < ids.size(); ++i) {
            if (cancels[i] != 0) {
                s << sql("UPDATE omnihost_jobs SET state = 'cancelled', error = 'cancelled', error_status = 409, finished_ms = ?, lease_until_ms = 0 WHERE id = ?"),
                    bind(finished), bind(ids[i]), now;
                result.cancelled.push_back(ids[i]);
                notify(s, "cancelled", ids[i]);
            } else if (attempts[i] >= max_attempts) {
                const std::string why = "its worker stopped " + std::to_string(attempts[i]) +
                                        " times while running it (host killed or unreachable); not retried";
                s << sql("UPDATE omnihost_jobs SET state = 'failed', error = ?, error_status = 500, finished_ms = ?, lease_until_ms = 0 WHERE id = ?"),
                    bind(why), bind(finished), bind(ids[i]), now;
                result.failed.push_back(ids[i]);
                notify(s, "failed", ids[i]);
            } else {
                s << sql("UPDATE omnihost_jobs SET state = 'queued', worker = '', lease_until_ms = 0, started_ms = 0, "
                         "step = 0, total = 0, phase = '', message = '', eta_ms = -1 WHERE id = ?"),
                    bind(ids[i]), now;
                result.requeued.push_back(ids[i]);
                notify(s, "queued", ids[i]);
            }
        }
        s.commit();
        return result;
    });
}

std::vector<job_database::stored_output> job_database::outputs_oldest_first() {
    return locked([&](Poco::Data::Session &s) {
        std::vector<std::string> ids, paths;
        std::vector<Poco::Int64> bytes;
        s << "SELECT id, output_path, output_bytes FROM omnihost_jobs WHERE output_path <> '' ORDER BY finished_ms, seq",
            into(ids), into(paths), into(bytes), now;
        std::vector<stored_output> out;
        for (std::size_t i = 0; i < ids.size(); ++i) out.push_back({ids[i], paths[i], bytes[i]});
        return out;
    });
}

int64_t job_database::output_bytes() {
    return locked([&](Poco::Data::Session &s) {
        Poco::Int64 total = 0;
        s << "SELECT COALESCE(SUM(output_bytes), 0) FROM omnihost_jobs WHERE output_path <> ''", into(total), now;
        return static_cast<int64_t>(total);
    });
}

void job_database::mark_evicted(const std::string &id) {
    locked([&](Poco::Data::Session &s) {
        s << sql("UPDATE omnihost_jobs SET output_path = '', output_evicted = 1 WHERE id = ?"), bind(id), now;
        return 0;
    });
}

bool job_database::running_under(const std::string &id, const std::string &worker) {
    return locked([&](Poco::Data::Session &s) {
        Poco::Int64 n = 0;
        s << sql("SELECT COUNT(*) FROM omnihost_jobs WHERE id = ? AND worker = ? AND state = 'running'"), bind(id),
            bind(worker), into(n), now;
        return n > 0;
    });
}

job_stats job_database::stats() {
    return locked([&](Poco::Data::Session &s) {
        job_stats stats;
        std::vector<std::string> states;
        std::vector<Poco::Int64> counts;
        s << "SELECT state, COUNT(*) FROM omnihost_jobs GROUP BY state", into(states), into(counts), now;
        for (std::size_t i = 0; i < states.size(); ++i) {
            const auto state = parse_job_state(states[i]);
            if (!state) continue;
            switch (*state) {
            case job_phase::Queued: stats.queued = counts[i]; break;
            case job_phase::Running: stats.running = counts[i]; break;
            case job_phase::Succeeded: stats.succeeded = counts[i]; break;
            case job_phase::Failed: stats.failed = counts[i]; break;
            case job_phase::Cancelled: stats.cancelled = counts[i]; break;
            }
        }
        Poco::Int64 bytes = 0;
        s << "SELECT COALESCE(SUM(output_bytes), 0) FROM omnihost_jobs WHERE output_path <> ''", into(bytes), now;
        stats.output_bytes = bytes;
        return stats;
    });
}

double job_database::recent_average_seconds() {
    return locked([&](Poco::Data::Session &s) {
        std::vector<Poco::Int64> started, finished;
        s << "SELECT started_ms, finished_ms FROM omnihost_jobs WHERE state = 'succeeded' AND started_ms > 0 "
             "ORDER BY seq DESC LIMIT 20",
            into(started), into(finished), now;
        if (started.empty()) return 0.0;
        double sum = 0;
        for (std::size_t i = 0; i < started.size(); ++i) sum += static_cast<double>(finished[i] - started[i]) / 1000.0;
        return sum / static_cast<double>(started.size());
    });
}

} // namespace omnihost::jobs
