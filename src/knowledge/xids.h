// What an Xid code means and what to do (data/xid.toml): for the kernel-log Xid findings.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"
#include "rules/finding.h"

namespace dlrig {

struct XidInfo {
  int code = 0;
  std::string name;     ///< NVIDIA's mnemonic ("GPU_HAS_FALLEN_OFF_THE_BUS")
  std::string meaning;  ///< one line
  std::string nvidia_immediate, nvidia_investigatory;  ///< the catalog's buckets, verbatim
  Severity severity = Severity::kWarning;
  std::string action;            ///< an action key ("reset-gpu")
  std::string advice;            ///< one or two sentences
  bool advice_confirmed = true;  ///< false: the research's own inference
  std::string source;
};

class XidTable {
 public:
  /// kMalformed naming the row when a field is missing, a severity or action unknown, or a
  /// code given twice.
  static Result<XidTable> Parse(std::string_view text);
  /// The built-in table (or the --kb one), parsed once.
  static const Result<XidTable>& BuiltIn();
  /// nullptr for a code the table lacks.
  const XidInfo* Find(int code) const;
  /// The next step for an action key ("" when unknown); may name {address}.
  std::string Step(std::string_view action) const;
  const std::map<int, XidInfo>& rows() const { return rows_; }

 private:
  std::map<int, XidInfo> rows_;
  std::map<std::string, std::string, std::less<>> steps_;
};

}  // namespace dlrig
