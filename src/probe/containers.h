// containers layer: Docker client and daemon, the NVIDIA container toolkit, CDI specs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "probe/context.h"

namespace dlrig {

struct DockerDaemonConfig {
  std::vector<std::string> runtimes;  ///< names under "runtimes" ("nvidia")
  std::string default_runtime;        ///< "default-runtime", "" when unset
  std::optional<bool> cdi_enabled;    ///< features.cdi when present
};

/// What the running daemon says about itself over /var/run/docker.sock (GET /info).
struct DockerDaemonInfo {
  std::string server_version;
  std::vector<std::string> runtimes;
  std::string default_runtime;
  std::vector<std::string> cdi_spec_dirs;
};

struct CdiSpec {
  std::string path;
  std::string kind;                   ///< "nvidia.com/gpu"
  std::vector<std::string> devices;   ///< device names ("0", "all", "GPU-…")
};

struct ContainerFacts {
  std::optional<std::string> docker_client;  ///< path PATH finds, if any
  std::optional<std::string> podman_client;
  bool docker_socket = false;                ///< /var/run/docker.sock exists
  Result<DockerDaemonConfig> daemon_json = Fail(ErrorKind::kNotFound, "not probed");
  Result<DockerDaemonInfo> daemon = Fail(ErrorKind::kNotFound, "not probed");
  std::vector<std::pair<std::string, std::string>> nvidia_tools;  ///< name → path
  Result<std::string> nvidia_runtime_mode = Fail(ErrorKind::kNotFound, "not probed");
  std::vector<Result<CdiSpec>> cdi_specs;
};

ContainerFacts ProbeContainers(const ProbeContext& ctx);

// Pure parsers for tests and fuzzers.
Result<DockerDaemonConfig> ParseDaemonJson(std::string_view text);
Result<DockerDaemonInfo> ParseDockerInfo(std::string_view json_text);
/// Kind and device names from a CDI spec in YAML or JSON (a line scanner, no YAML library).
Result<CdiSpec> ParseCdiSpec(std::string_view text);

}  // namespace dlrig
