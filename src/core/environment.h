// The environment variables of the inspected machine's shell. On this machine they come
// from the process; for a captured root, from its environ.txt (KEY=value lines).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlrig {

class Environment {
 public:
  Environment() = default;
  explicit Environment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  /// Variables of this process.
  static Environment FromProcess();
  /// KEY=value lines (environ.txt of a capture; NUL-separated /proc/PID/environ also works).
  static Environment Parse(std::string_view text);

  std::optional<std::string> Get(std::string_view name) const;
  /// A PATH-like variable split on ':' (empty entries kept: they mean ".").
  std::vector<std::string> GetList(std::string_view name) const;
  const std::map<std::string, std::string>& vars() const { return vars_; }
  void Set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }

 private:
  std::map<std::string, std::string> vars_;
};

/// This process's variable `name`, or "" when it is unset.
std::string ProcessEnv(const char* name);

}  // namespace dlrig
