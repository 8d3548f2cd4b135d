// SQLite helpers shared by the history's files (not part of its interface).
#pragma once

#include <sqlite3.h>

#include "core/host.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace dlrig::history_sql {

inline void BindOptional(sqlite3_stmt* st, int index, const std::optional<int64_t>& value) {
  if (value) sqlite3_bind_int64(st, index, *value);
  else sqlite3_bind_null(st, index);
}

inline void BindText(sqlite3_stmt* st, int index, const std::string& text) {
  if (text.empty()) sqlite3_bind_null(st, index);
  else sqlite3_bind_text(st, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

inline std::optional<int64_t> ColumnOptional(sqlite3_stmt* st, int index) {
  if (sqlite3_column_type(st, index) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(st, index);
}

inline std::string ColumnText(sqlite3_stmt* st, int index) {
  const unsigned char* text = sqlite3_column_text(st, index);
  return text ? reinterpret_cast<const char*>(text) : "";
}


// A statement finalized when it goes out of scope.
struct Stmt {
  sqlite3_stmt* st = nullptr;
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(st); }
};

}  // namespace dlrig::history_sql
