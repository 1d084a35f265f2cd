//===- Store.h - What the two tuning stores share (private to db/) -*- C++ -*-===//
//
// The SQLite store (Database.cpp) and the PostgreSQL store (Postgres.cpp)
// implement hatc::db::Database; Database::open picks one. The helpers here
// keep both reading stored rows the same way.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_DB_STORE_H
#define HATC_DB_STORE_H

#include "hatc/Db/Database.h"

#include <memory>
#include <string>

namespace hatc {
namespace db {

std::unique_ptr<Database> openSqliteStore(const std::string &path,
                                          const OpenOptions &options);
std::unique_ptr<Database> openPostgresStore(const std::string &spec,
                                            const OpenOptions &options);

/// Unix time in seconds (the client's clock).
double nowSeconds();

/// Fills record.samples and record.error from their stored text; throws
/// DbError naming the database and the record when either is corrupt.
void decodeStoredFields(Record &record, const std::string &samplesJson,
                        const std::string &errorName,
                        const std::string &dbName);

/// The samples of `record` as stored (a JSON array).
std::string encodeSamples(const Record &record);

} // namespace db
} // namespace hatc

#endif // HATC_DB_STORE_H
