// Dockerfile, docker-run.sh and .devcontainer/devcontainer.json.
#include "plan/emit.h"

namespace dlrig {

std::string EmitDockerfile(const Plan& p) {
  std::string out = FileHeader(p, "Container image for the planned stack: docker build -t dlrig-plan .", "#");
  out += "# Base: " + p.docker_image + (p.toolkit ? " (devel: nvcc for the extension builds)" : " (runtime)") + "\n";
  out += "FROM " + p.docker_image + "\n"
         "ENV DEBIAN_FRONTEND=noninteractive\n"
         "RUN apt-get update \\\n"
         " && apt-get install -y --no-install-recommends python3 python3-venv python3-pip \\\n"
         " && rm -rf /var/lib/apt/lists/*\n"
         "RUN python3 -m venv /opt/venv\n"
         "ENV PATH=/opt/venv/bin:$PATH\n"
         "COPY requirements.txt /tmp/requirements.txt\n"
         "RUN pip install --no-cache-dir -r /tmp/requirements.txt\n";
  if (!p.build_requirements.empty())
    out += "COPY requirements-build.txt /tmp/requirements-build.txt\n"
           "RUN pip install --no-cache-dir --no-build-isolation -r /tmp/requirements-build.txt\n";
  out += "WORKDIR /workspace\n";
  return out;
}

std::string EmitDockerRun(const Plan& p) {
  std::string out = "#!/usr/bin/env bash\n";
  out += FileHeader(p, "Runs the planned image with every GPU, the current directory at /workspace", "#");
  out += "set -euo pipefail\n"
         "exec docker run --rm -it --gpus all --ipc=host \\\n"
         "  --user \"$(id -u):$(id -g)\" \\\n"
         "  -v \"$PWD\":/workspace -w /workspace \\\n"
         "  dlrig-plan \"$@\"\n";
  return out;
}

std::string EmitDevcontainer(const Plan& p) {
  std::string out = FileHeader(p, "Dev Container (JSON with comments) for the planned stack", "//");
  out += "{\n"
         "  \"name\": \"dlrig-plan\",\n"
         "  \"build\": { \"dockerfile\": \"../Dockerfile\", \"context\": \"..\" },\n"
         "  \"runArgs\": [\"--gpus\", \"all\", \"--ipc=host\"],\n"
         "  \"workspaceFolder\": \"/workspace\",\n"
         "  \"workspaceMount\": \"source=${localWorkspaceFolder},target=/workspace,type=bind\"\n"
         "}\n";
  return out;
}

}  // namespace dlrig
