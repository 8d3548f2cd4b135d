#include "probe/containers.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include "core/toml.h"

#include "core/strings.h"
#include "probe/path_search.h"

namespace dlrig {
namespace {

constexpr int kSocketDeadlineMs = 1000;

std::vector<std::string> Keys(const nlohmann::json& obj) {
  std::vector<std::string> keys;
  if (obj.is_object())
    for (auto& [k, v] : obj.items()) keys.push_back(k);
  return keys;
}

// GET /info over the daemon's unix socket, HTTP/1.0 so the daemon closes when done.
Result<std::string> QueryDockerSocket(const std::string& socket_path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Fail(ErrorKind::kIo, "socket: " + std::string(std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSocketDeadlineMs);
  auto wait = [&](short events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd, events, 0};
    return left > 0 && ::poll(&p, 1, static_cast<int>(left)) == 1;
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      (errno != EINPROGRESS || !wait(POLLOUT))) {
    int err = errno;
    ::close(fd);
    return Fail(ErrorKindFromErrno(err), socket_path + ": " + std::strerror(err));
  }
  const char request[] = "GET /info HTTP/1.0\r\nHost: docker\r\n\r\n";
  if (::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) < 0) {
    int err = errno;
    ::close(fd);
    return Fail(ErrorKindFromErrno(err), socket_path + ": " + std::strerror(err));
  }
  std::string reply;
  char buf[8192];
  while (reply.size() < (4u << 20) && wait(POLLIN)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t body = reply.find("\r\n\r\n");
  if (!StartsWith(reply, "HTTP/") || body == std::string::npos)
    return Fail(reply.empty() ? ErrorKind::kTimeout : ErrorKind::kMalformed,
                socket_path + ": no HTTP answer from the Docker daemon");
  if (!Contains(reply.substr(0, reply.find("\r\n")), " 200"))
    return Fail(ErrorKind::kNoPermission, socket_path + ": " + reply.substr(0, reply.find("\r\n")));
  return reply.substr(body + 4);
}

}  // namespace

Result<DockerDaemonConfig> ParseDaemonJson(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Fail(ErrorKind::kMalformed, "daemon.json is not a JSON object");
  DockerDaemonConfig cfg;
  if (doc.contains("runtimes")) cfg.runtimes = Keys(doc["runtimes"]);
  if (doc.contains("default-runtime") && doc["default-runtime"].is_string())
    cfg.default_runtime = doc["default-runtime"].get<std::string>();
  if (doc.contains("features") && doc["features"].is_object() &&
      doc["features"].contains("cdi") && doc["features"]["cdi"].is_boolean())
    cfg.cdi_enabled = doc["features"]["cdi"].get<bool>();
  return cfg;
}

Result<DockerDaemonInfo> ParseDockerInfo(std::string_view json_text) {
  auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Fail(ErrorKind::kMalformed, "docker /info is not a JSON object");
  DockerDaemonInfo info;
  auto str = [&](const char* key) {
    return doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : "";
  };
  info.server_version = str("ServerVersion");
  info.default_runtime = str("DefaultRuntime");
  if (doc.contains("Runtimes")) info.runtimes = Keys(doc["Runtimes"]);
  if (doc.contains("CDISpecDirs") && doc["CDISpecDirs"].is_array())
    for (auto& d : doc["CDISpecDirs"])
      if (d.is_string()) info.cdi_spec_dirs.push_back(d.get<std::string>());
  return info;
}

Result<CdiSpec> ParseCdiSpec(std::string_view text) {
  CdiSpec spec;
  std::string_view t = Trim(text);
  if (!t.empty() && t.front() == '{') {
    auto doc = nlohmann::json::parse(t, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
      return Fail(ErrorKind::kMalformed, "CDI spec is not valid JSON");
    if (doc.contains("kind") && doc["kind"].is_string()) spec.kind = doc["kind"].get<std::string>();
    if (doc.contains("devices") && doc["devices"].is_array())
      for (auto& d : doc["devices"])
        if (d.is_object() && d.contains("name") && d["name"].is_string())
          spec.devices.push_back(d["name"].get<std::string>());
  } else {
    for (auto& line : SplitLines(text)) {
      std::string_view l = Trim(line);
      if (StartsWith(line, "kind:")) spec.kind = Unquote(l.substr(5));
      else if (StartsWith(l, "- name:")) spec.devices.push_back(Unquote(l.substr(7)));
    }
  }
  if (spec.kind.empty()) return Fail(ErrorKind::kMalformed, "CDI spec without a 'kind'");
  return spec;
}

ContainerFacts ProbeContainers(const ProbeContext& ctx) {
  const Root& root = ctx.root;
  ContainerFacts facts;
  facts.docker_client = FindOnPath(ctx, "docker");
  facts.podman_client = FindOnPath(ctx, "podman");
  for (const char* tool : {"nvidia-ctk", "nvidia-container-cli", "nvidia-container-runtime",
                           "nvidia-container-runtime-hook", "nvidia-container-toolkit"}) {
    if (auto path = FindOnPath(ctx, tool)) facts.nvidia_tools.emplace_back(tool, *path);
  }
  auto daemon_json = root.ReadFile("/etc/docker/daemon.json", 1u << 20);
  facts.daemon_json = daemon_json ? ParseDaemonJson(*daemon_json)
                                  : tl::unexpected(daemon_json.error());

  auto sock = root.LStat("/var/run/docker.sock");
  if (!sock) sock = root.LStat("/run/docker.sock");
  facts.docker_socket = sock.has_value();
  if (!facts.docker_socket) {
    facts.daemon = Fail(ErrorKind::kNotFound, "no /var/run/docker.sock: the Docker daemon is not running");
  } else if (!root.IsHost()) {
    facts.daemon = Fail(ErrorKind::kUnsupported, "daemon not queried for a foreign root");
  } else {
    auto body = QueryDockerSocket("/var/run/docker.sock");
    facts.daemon = body ? ParseDockerInfo(*body) : tl::unexpected(body.error());
  }

  auto config = root.ReadFile("/etc/nvidia-container-runtime/config.toml", 1u << 20);
  if (!config) {
    facts.nvidia_runtime_mode = tl::unexpected(config.error());
  } else {
    auto table = ParseToml(*config, "config.toml");
    if (table)
      facts.nvidia_runtime_mode =
          (*table)["nvidia-container-runtime"]["mode"].value_or(std::string("auto"));
    else
      facts.nvidia_runtime_mode = tl::unexpected(table.error());
  }

  for (const char* dir : {"/etc/cdi", "/var/run/cdi"}) {
    auto entries = root.ListDir(dir);
    if (!entries) continue;
    for (auto& e : *entries) {
      if (!EndsWith(e.name, ".yaml") && !EndsWith(e.name, ".yml") && !EndsWith(e.name, ".json"))
        continue;
      std::string path = JoinPath(dir, e.name);
      auto text = root.ReadFile(path, 4u << 20);
      auto spec = text ? ParseCdiSpec(*text) : tl::unexpected(text.error());
      if (spec) spec->path = path;
      else spec.error().message = path + ": " + spec.error().message;
      facts.cdi_specs.push_back(std::move(spec));
    }
  }
  return facts;
}

}  // namespace dlrig
