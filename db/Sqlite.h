//===- Sqlite.h - Small RAII wrappers over the SQLite C API -----*- C++ -*-===//
//
// Private to db/: the public headers never include sqlite3.h. Three wrappers,
// each owning one SQLite object so no path can leak it:
//
//   Connection   sqlite3*        closes on destruction, caches statements
//   Statement    sqlite3_stmt*   binds values (never splices them into SQL)
//   Transaction  BEGIN ... COMMIT, rolls back unless commit() was reached
//
// Locking policy, so that SQLITE_BUSY never reaches a user: SQLite's own
// busy_timeout waits on locks first; when it still gives up, a statement run
// outside a transaction is retried here with backoff until the connection's
// deadline, and a statement inside a transaction throws BusyError so the
// caller can roll back and rerun the whole transaction (a half-done
// transaction cannot be resumed safely). Only the deadline turns into a
// DbError, with a message that says the database stayed locked.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_DB_SQLITE_H
#define HATC_DB_SQLITE_H

#include "hatc/Db/Record.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

namespace hatc {
namespace db {
namespace sqlite {

/// SQLite answered BUSY inside a transaction; the transaction must be rolled
/// back and rerun. Never escapes db/ (writeTransaction catches it).
class BusyError : public DbError {
public:
  using DbError::DbError;
};

inline bool isBusy(int rc) { return (rc & 0xff) == SQLITE_BUSY; }

class Connection;

class Statement {
public:
  Statement(Connection &conn, std::string_view sql);
  ~Statement() { sqlite3_finalize(stmt); }
  Statement(const Statement &) = delete;
  Statement &operator=(const Statement &) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement &bind(int index, int64_t value) {
    check(sqlite3_bind_int64(stmt, index, value), "bind");
    return *this;
  }
  Statement &bind(int index, int value) {
    return bind(index, static_cast<int64_t>(value));
  }
  Statement &bind(int index, double value) {
    check(sqlite3_bind_double(stmt, index, value), "bind");
    return *this;
  }
  Statement &bind(int index, std::string_view value) {
    // SQLITE_TRANSIENT: SQLite copies, so the caller's buffer may go away.
    check(sqlite3_bind_text64(stmt, index, value.data(), value.size(),
                              SQLITE_TRANSIENT, SQLITE_UTF8),
          "bind");
    return *this;
  }
  Statement &bind(int index, const std::string &value) {
    return bind(index, std::string_view(value));
  }
  Statement &bind(int index, const char *value) {
    return bind(index, std::string_view(value));
  }
  Statement &bindNull(int index) {
    check(sqlite3_bind_null(stmt, index), "bind");
    return *this;
  }
  template <typename T>
  Statement &bind(int index, const std::optional<T> &value) {
    if (!value)
      return bindNull(index);
    return bind(index, *value);
  }

  /// Advances to the next row: true when a row is there, false when done.
  bool step();
  /// Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }
  /// The first column of the first row as an integer (nullopt without a
  /// row). Resets the statement, so it holds no read snapshot afterwards.
  std::optional<int64_t> scalar() {
    std::optional<int64_t> value;
    if (step())
      value = int64(0);
    sqlite3_reset(stmt);
    gotRow = false;
    return value;
  }
  /// Makes the statement ready for new bindings.
  void reset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    gotRow = false;
  }

  bool isNull(int column) {
    return sqlite3_column_type(stmt, column) == SQLITE_NULL;
  }
  int64_t int64(int column) { return sqlite3_column_int64(stmt, column); }
  double real(int column) { return sqlite3_column_double(stmt, column); }
  std::string text(int column) {
    const unsigned char *data = sqlite3_column_text(stmt, column);
    if (!data)
      return std::string();
    return std::string(reinterpret_cast<const char *>(data),
                       sqlite3_column_bytes(stmt, column));
  }

private:
  void check(int rc, const char *what);

  Connection &conn;
  sqlite3_stmt *stmt = nullptr;
  std::string sqlText;
  /// A statement may only be retried transparently before its first row.
  bool gotRow = false;
};

/// Whether this process may create files next to `path` (a -shm file).
inline bool folderWritable(const std::string &path) {
  std::string::size_type slash = path.rfind('/');
  std::string folder = slash == std::string::npos ? "."
                       : slash == 0              ? "/"
                                                 : path.substr(0, slash);
  return ::access(folder.c_str(), W_OK) == 0;
}

/// `path` as the path part of a SQLite file: URI.
inline std::string uriEscape(const std::string &path) {
  static const char *hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (c == '%' || c == '?' || c == '#' || c < 0x21 || c > 0x7e) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out;
}

class Connection {
public:
  using Clock = std::chrono::steady_clock;

  Connection(std::string path, bool readOnly, int busyTimeoutMs,
             int busyDeadlineMs)
      : dbPath(std::move(path)), busyDeadline(busyDeadlineMs) {
    int flags = readOnly ? SQLITE_OPEN_READONLY
                         : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    // A reader of a WAL database needs its -shm file, which it cannot
    // create in a folder it may not write: there the file is opened as
    // immutable (no locks, no -shm). Nobody can be writing it there either,
    // short of another user with more rights.
    std::string name = dbPath;
    // A read-only connection cannot remove the -wal and -shm files it
    // created when it closes (they stayed next to a database that was only
    // read); where the file can be written, it is opened for writing (never
    // created) and kept to reads by `PRAGMA query_only`, so the last
    // connection to close cleans up as a writer does.
    bool queryOnly = false;
    if (readOnly && !folderWritable(dbPath)) {
      name = "file:" + uriEscape(dbPath) + "?immutable=1";
      flags |= SQLITE_OPEN_URI;
    } else if (readOnly && ::access(dbPath.c_str(), W_OK) == 0) {
      flags = SQLITE_OPEN_READWRITE;
      queryOnly = true;
    }
    int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close_v2(db);
      db = nullptr;
      throw DbError("cannot open tuning database '" + dbPath + "': " + message);
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, busyTimeoutMs);
    if (queryOnly && sqlite3_exec(db, "PRAGMA query_only = ON", nullptr,
                                  nullptr, nullptr) != SQLITE_OK) {
      std::string message = sqlite3_errmsg(db);
      sqlite3_close_v2(db);
      db = nullptr;
      throw DbError("cannot open tuning database '" + dbPath +
                    "' for reading: " + message);
    }
  }
  ~Connection() {
    // Statements first: sqlite3_close refuses to close with live statements.
    cache.clear();
    sqlite3_close_v2(db);
  }
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;

  sqlite3 *handle() { return db; }
  const std::string &path() const { return dbPath; }
  bool inTransaction() { return sqlite3_get_autocommit(db) == 0; }
  int64_t changes() { return sqlite3_changes64(db); }

  /// Runs SQL text without parameters (pragmas, DDL, BEGIN/COMMIT); several
  /// statements separated by ';' are allowed. Busy handling as for step().
  void exec(const std::string &sql) {
    auto start = Clock::now();
    for (int attempt = 0;; ++attempt) {
      char *message = nullptr;
      int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
      std::string text = message ? message : "";
      sqlite3_free(message);
      if (rc == SQLITE_OK)
        return;
      if (isBusy(rc)) {
        onBusy(start, attempt);
        continue;
      }
      fail(rc, "'" + firstLine(sql) + "' failed", text);
    }
  }

  /// A prepared statement for `sql`, compiled once per connection and reset
  /// for reuse. Not re-entrant: finish using it before asking for the same
  /// SQL again.
  Statement &cached(const std::string &sql) {
    auto it = cache.find(sql);
    if (it == cache.end())
      it = cache.emplace(sql, std::make_unique<Statement>(*this, sql)).first;
    it->second->reset();
    return *it->second;
  }

  /// Handles one SQLITE_BUSY: inside a transaction it throws BusyError (the
  /// transaction must be rerun); outside it sleeps with growing, jittered
  /// backoff and returns so the caller retries, until the deadline.
  void onBusy(Clock::time_point start, int attempt) {
    if (inTransaction())
      throw BusyError("tuning database '" + dbPath + "' is busy");
    waitOrGiveUp(start, attempt);
  }

  /// Sleeps before retry `attempt`; throws DbError past the deadline.
  void waitOrGiveUp(Clock::time_point start, int attempt) {
    if (Clock::now() - start > busyDeadline)
      throw DbError("tuning database '" + dbPath +
                    "' stayed locked by another process for more than " +
                    std::to_string(busyDeadline.count() / 1000) +
                    " s; giving up");
    // Jitter keeps several waiting processes from retrying in lockstep.
    int capMs = std::min(100, 1 << std::min(attempt, 7));
    std::uniform_int_distribution<int> jitter(capMs / 2, capMs);
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
  }

  [[noreturn]] void fail(int rc, const std::string &what,
                         const std::string &detail = "") {
    std::string message = detail.empty() ? sqlite3_errmsg(db) : detail;
    // Causes a user can act on are named without the SQL that met them.
    if ((rc & 0xff) == SQLITE_NOTADB)
      throw DbError("'" + dbPath + "' is not a SQLite database (" + message +
                    ")");
    if ((rc & 0xff) == SQLITE_CORRUPT)
      throw DbError("tuning database '" + dbPath + "' is damaged (" + message +
                    "); a copy made with `hatc export` before the damage, or "
                    "a log, can be replayed into a new one");
    if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_READONLY)
      throw DbError("cannot open tuning database '" + dbPath + "' to " +
                    "read and write (" + message + ")");
    throw DbError("tuning database '" + dbPath + "': " + what + ": " + message);
  }

  static std::string firstLine(std::string_view sql) {
    while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n'))
      sql.remove_prefix(1);
    std::string_view line = sql.substr(0, sql.find('\n'));
    if (line.size() > 60)
      return std::string(line.substr(0, 60)) + "...";
    return std::string(line);
  }

private:
  std::string dbPath;
  sqlite3 *db = nullptr;
  std::chrono::milliseconds busyDeadline;
  std::minstd_rand rng{std::random_device{}()};
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache;
};

inline Statement::Statement(Connection &conn, std::string_view sql)
    : conn(conn), sqlText(sql) {
  auto start = Connection::Clock::now();
  for (int attempt = 0;; ++attempt) {
    // Preparing reads the schema, which can itself meet a lock.
    int rc =
        sqlite3_prepare_v2(conn.handle(), sqlText.c_str(),
                           static_cast<int>(sqlText.size()), &stmt, nullptr);
    if (rc == SQLITE_OK)
      return;
    sqlite3_finalize(stmt);
    stmt = nullptr;
    if (isBusy(rc)) {
      conn.onBusy(start, attempt);
      continue;
    }
    conn.fail(rc, "cannot prepare '" + Connection::firstLine(sqlText) + "'");
  }
}

inline bool Statement::step() {
  auto start = Connection::Clock::now();
  for (int attempt = 0;; ++attempt) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      gotRow = true;
      return true;
    }
    if (rc == SQLITE_DONE)
      return false;
    if (isBusy(rc) && !gotRow) {
      sqlite3_reset(stmt); // keeps the bindings
      conn.onBusy(start, attempt);
      continue;
    }
    conn.fail(rc, "'" + Connection::firstLine(sqlText) + "' failed");
  }
}

inline void Statement::check(int rc, const char *what) {
  if (rc != SQLITE_OK)
    conn.fail(rc, std::string(what) + " for '" +
                      Connection::firstLine(sqlText) + "'");
}

/// BEGIN on construction, ROLLBACK on destruction unless commit() ran.
class Transaction {
public:
  enum class Mode { Deferred, Immediate };

  Transaction(Connection &conn, Mode mode) : conn(conn) {
    // IMMEDIATE takes the write lock now: a deferred transaction that reads
    // and then writes can deadlock with another writer, and SQLite then
    // fails without waiting.
    conn.exec(mode == Mode::Immediate ? "BEGIN IMMEDIATE" : "BEGIN");
    active = true;
  }
  ~Transaction() {
    if (active && conn.inTransaction())
      sqlite3_exec(conn.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction &) = delete;
  Transaction &operator=(const Transaction &) = delete;

  void commit() {
    auto start = Connection::Clock::now();
    for (int attempt = 0;; ++attempt) {
      int rc = sqlite3_exec(conn.handle(), "COMMIT", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) {
        active = false;
        return;
      }
      // A busy COMMIT leaves the transaction open and may simply be retried
      // (readers still hold the old snapshot in rollback-journal mode).
      if (isBusy(rc)) {
        conn.waitOrGiveUp(start, attempt);
        continue;
      }
      conn.fail(rc, "COMMIT failed");
    }
  }

private:
  Connection &conn;
  bool active = false;
};

} // namespace sqlite
} // namespace db
} // namespace hatc

#endif // HATC_DB_SQLITE_H
