#include "core/environment.h"

#include <cstdlib>

#include <unistd.h>

#include "core/strings.h"

extern char** environ;

namespace dlrig {

Environment Environment::FromProcess() {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    vars.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return Environment(std::move(vars));
}

std::string ProcessEnv(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

Environment Environment::Parse(std::string_view text) {
  std::map<std::string, std::string> vars;
  bool nul_separated = text.find('\0') != std::string_view::npos;
  for (auto& line : Split(text, nul_separated ? '\0' : '\n')) {
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string value = line.substr(eq + 1);
    if (!value.empty() && value.back() == '\r') value.pop_back();
    vars[line.substr(0, eq)] = value;
  }
  return Environment(std::move(vars));
}

std::optional<std::string> Environment::Get(std::string_view name) const {
  auto it = vars_.find(std::string(name));
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Environment::GetList(std::string_view name) const {
  auto value = Get(name);
  if (!value || value->empty()) return {};
  return Split(*value, ':', true);
}

}  // namespace dlrig
