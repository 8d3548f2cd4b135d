#include "plan/pip_resolve.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/strings.h"
#include "plan/constraints.h"
#include "report/json_util.h"

namespace dlrig {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kPypi = "https://pypi.org/simple";

/// What pip prints when an index did not answer (urllib3 / requests errors), as opposed to an
/// answer that no version satisfies the request.
bool LooksUnreachable(std::string_view err) {
  for (const char* needle : {"NewConnectionError", "Max retries exceeded", "ConnectTimeout",
                             "ReadTimeout", "Temporary failure in name resolution",
                             "Network is unreachable", "ProxyError", "SSLError",
                             "Connection refused", "timed out"})
    if (err.find(needle) != std::string_view::npos) return true;
  return false;
}

/// The last non-empty lines of pip's stderr that say what went wrong, on one line.
std::string Tail(std::string_view err) {
  std::vector<std::string> lines;
  for (std::string& l : Split(std::string(err), '\n'))
    if (!Trim(l).empty()) lines.emplace_back(Trim(l));
  std::string out;
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size(); ++i)
    out += (out.empty() ? "" : " | ") + lines[i];
  return out.size() > 600 ? out.substr(out.size() - 600) : out;
}

/// A scratch directory removed when it goes out of scope.
class Scratch {
 public:
  explicit Scratch(const std::string& parent) {
    std::string base = parent;
    if (base.empty()) {
      const char* tmp = std::getenv("TMPDIR");
      base = tmp && *tmp ? tmp : "/tmp";
    }
    std::string pattern = base + "/dlrig-resolve-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) != nullptr) path_ = buf.data();
  }
  ~Scratch() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Deadline {
  Clock::time_point end;
  milliseconds Left() const {
    auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
    return std::max(left, milliseconds(1));
  }
  bool Passed() const { return Clock::now() >= end; }
};

Resolution NoAnswer(std::string verdict, std::string message) {
  Resolution r;
  r.verdict = std::move(verdict);
  r.message = std::move(message);
  return r;
}

std::string Seconds(milliseconds ms) { return std::to_string((ms.count() + 999) / 1000) + " s"; }

/// "3.10" when `python` runs and is that version; "" otherwise.
std::string VersionOf(const CommandRunner& runner, const std::string& python, const Deadline& d) {
  ExecOptions o;
  o.deadline = std::min(d.Left(), milliseconds(10000));
  auto r = runner.Run({python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"}, o);
  if (!r || r->exit_code != 0) return "";
  return std::string(Trim(r->out));
}

Resolution RunUv(const CommandRunner& runner, const ResolverRequest& request, const Deadline& d,
                 const std::string& scratch_parent) {
  ExecOptions probe;
  probe.deadline = std::min(d.Left(), milliseconds(5000));
  auto version = runner.Run({"uv", "--version"}, probe);
  if (!version || version->exit_code != 0) return NoAnswer("no-resolver", "uv is not installed");
  Scratch scratch(scratch_parent);
  if (scratch.path().empty()) return NoAnswer("no-resolver", "cannot create a scratch directory");
  std::string in = scratch.path() + "/requirements.in";
  {
    std::ofstream out(in);
    for (const std::string& r : request.requirements) out << r << "\n";
    if (!out) return NoAnswer("no-resolver", "cannot write " + in);
  }
  Resolution res;
  res.tool = std::string(Trim(version->out));
  res.interpreter = "uv, --python-version " + request.python.MajorMinor();
  res.command = UvArgv(request, in);
  ExecOptions o;
  o.deadline = d.Left();
  o.max_output_bytes = 1 << 20;
  auto run = runner.Run(res.command, o);
  if (!run) {
    res.verdict = "no-answer";
    res.message = run.error().kind == ErrorKind::kTimeout
                      ? "uv gave no answer within the deadline"
                      : "uv could not run: " + run.error().message;
    return res;
  }
  if (run->exit_code != 0) {
    res.verdict = LooksUnreachable(run->err) ? "no-answer" : "conflict";
    res.message = "uv: " + Tail(run->err);
    return res;
  }
  auto packages = ParseUvCompile(run->out, request.requirements);
  if (!packages) {
    res.verdict = "no-answer";
    res.message = packages.error().message;
    return res;
  }
  res.ran = true;
  res.verdict = "answered";
  res.packages = std::move(*packages);
  return res;
}

Resolution RunPip(const CommandRunner& runner, const ResolverRequest& request, const Deadline& d,
                  const std::string& scratch_parent) {
  std::string want = request.python.MajorMinor();
  std::string python = "python" + want;
  bool cross = VersionOf(runner, python, d) != want;
  if (cross) {
    python = "python3";
    std::string have = VersionOf(runner, python, d);
    if (have.empty()) return NoAnswer("no-resolver", "no python3 on PATH to run pip");
    cross = have != want;
  }
  Scratch scratch(scratch_parent);
  if (scratch.path().empty()) return NoAnswer("no-resolver", "cannot create a scratch directory");
  std::string venv = scratch.path() + "/venv";
  ExecOptions o;
  o.deadline = d.Left();
  auto made = runner.Run({python, "-m", "venv", venv}, o);
  if (!made || made->exit_code != 0) {
    if (!made && made.error().kind == ErrorKind::kTimeout)
      return NoAnswer("no-answer", "no answer within the deadline (creating the venv)");
    return NoAnswer("no-resolver", python + " -m venv failed: " +
                                       (made ? Tail(made->err) : made.error().message));
  }
  Resolution res;
  std::string report = scratch.path() + "/report.json";
  res.command = PipArgv(venv + "/bin/python", request, report, cross);
  res.interpreter = python + " venv" + (cross ? ", --python-version " + want : "");
  o.deadline = d.Left();
  o.max_output_bytes = 1 << 20;
  auto run = runner.Run(res.command, o);
  res.tool = "pip";
  if (!run) {
    res.verdict = "no-answer";
    res.message = run.error().kind == ErrorKind::kTimeout
                      ? "pip gave no answer within the deadline"
                      : "pip could not run: " + run.error().message;
    return res;
  }
  if (run->exit_code != 0) {
    res.verdict = LooksUnreachable(run->err) ? "no-answer" : "conflict";
    res.message = (res.verdict == "no-answer" ? "the index did not answer: " : "pip: ") + Tail(run->err);
    return res;
  }
  std::ifstream in(report);
  std::stringstream text;
  text << in.rdbuf();
  auto packages = ParsePipReport(text.str());
  if (!packages) {
    res.verdict = "no-answer";
    res.message = packages.error().message;
    return res;
  }
  try {
    res.tool = "pip " + json::parse(text.str()).value("pip_version", std::string("?"));
  } catch (const json::exception&) {
  }
  res.ran = true;
  res.verdict = "answered";
  res.packages = std::move(*packages);
  return res;
}

}  // namespace

std::vector<std::string> ManylinuxPlatforms(const Version& glibc, const std::string& machine) {
  // The glibc levels wheels are built for (manylinux images: 2_5/1, 2_12/2010, 2_17/2014, 2_24,
  // 2_27, 2_28, then distribution glibcs), not every minor: pip's candidate check grows with
  // each tag.
  std::vector<std::string> out;
  int minor = glibc.major() == 2 ? glibc.minor() : 17;
  for (int m : {minor, 39, 35, 34, 31, 28, 27, 24, 17, 12, 5}) {
    if (m > minor) continue;
    std::string tag = "manylinux_2_" + std::to_string(m) + "_" + machine;
    if (std::find(out.begin(), out.end(), tag) != out.end()) continue;
    out.push_back(tag);
    if (m == 17) out.push_back("manylinux2014_" + machine);
    if (m == 12) out.push_back("manylinux2010_" + machine);
    if (m == 5) out.push_back("manylinux1_" + machine);
  }
  return out;
}

std::vector<std::string> PipArgv(const std::string& venv_python, const ResolverRequest& request,
                                 const std::string& report_path, bool cross) {
  std::vector<std::string> argv = {venv_python, "-m", "pip", "install", "--dry-run",
                                   "--ignore-installed", "--isolated", "--disable-pip-version-check",
                                   "--no-input", "--quiet", "--timeout", "15", "--retries", "1",
                                   "--report", report_path};
  if (!request.index_url.empty()) argv.insert(argv.end(), {"--index-url", request.index_url});
  for (const std::string& extra : request.extra_index_urls)
    argv.insert(argv.end(), {"--extra-index-url", extra});
  if (cross) {
    // pip before 24 accepts the target flags only with --target (nothing is written: --dry-run).
    std::string dir = report_path.substr(0, report_path.rfind('/') + 1) + "target";
    argv.insert(argv.end(), {"--target", dir, "--python-version", request.python.MajorMinor(),
                             "--implementation", "cp", "--only-binary=:all:"});
    for (const std::string& p : ManylinuxPlatforms(request.glibc.value_or(*Version::Parse("2.17")),
                                                   request.machine))
      argv.insert(argv.end(), {"--platform", p});
  }
  argv.insert(argv.end(), request.requirements.begin(), request.requirements.end());
  return argv;
}

std::vector<std::string> UvArgv(const ResolverRequest& request, const std::string& in_path) {
  std::string glibc = request.glibc ? std::to_string(request.glibc->minor()) : "17";
  std::vector<std::string> argv = {"uv", "pip", "compile", in_path, "--python-version",
                                   request.python.MajorMinor(), "--python-platform",
                                   request.machine + "-manylinux_2_" + glibc, "--no-header",
                                   "--no-annotate", "--quiet"};
  // uv gives --extra-index-url priority over --index-url and takes each package from the first
  // index that has it: the variant index goes last on the command line, so it comes first.
  if (request.index_url.empty()) return argv;
  if (request.extra_index_urls.empty()) {
    argv.insert(argv.end(), {"--index-url", request.index_url});
    return argv;
  }
  argv.insert(argv.end(), {"--index-url", request.extra_index_urls.front()});
  for (size_t i = 1; i < request.extra_index_urls.size(); ++i)
    argv.insert(argv.end(), {"--extra-index-url", request.extra_index_urls[i]});
  argv.insert(argv.end(), {"--extra-index-url", request.index_url});
  return argv;
}

Result<std::vector<ResolvedPackage>> ParsePipReport(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    return Fail(ErrorKind::kMalformed, std::string("pip's report is not JSON: ") + e.what());
  }
  if (!doc.is_object() || !doc.contains("install") || !doc["install"].is_array())
    return Fail(ErrorKind::kMalformed, "pip's report has no \"install\" list");
  std::vector<ResolvedPackage> out;
  for (const json& item : doc["install"]) {
    if (!item.is_object() || !item.contains("metadata") || !item["metadata"].is_object())
      return Fail(ErrorKind::kMalformed, "pip's report has an install entry without metadata");
    const json& meta = item["metadata"];
    ResolvedPackage p;
    p.name = meta.value("name", std::string());
    p.version = meta.value("version", std::string());
    if (item.contains("download_info") && item["download_info"].is_object())
      p.url = item["download_info"].value("url", std::string());
    p.requested = item.value("requested", false);
    if (p.name.empty() || p.version.empty())
      return Fail(ErrorKind::kMalformed, "pip's report has an install entry without name or version");
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<ResolvedPackage>> ParseUvCompile(std::string_view text,
                                                    const std::vector<std::string>& requested) {
  std::vector<ResolvedPackage> out;
  for (const std::string& raw : Split(std::string(text), '\n')) {
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == '-') continue;
    size_t eq = line.find("==");
    if (eq == std::string_view::npos)
      return Fail(ErrorKind::kMalformed, "uv pip compile printed \"" + std::string(line) + "\", not NAME==VERSION");
    ResolvedPackage p;
    p.name = std::string(Trim(line.substr(0, eq)));
    std::string_view version = line.substr(eq + 2);
    p.version = std::string(Trim(version.substr(0, version.find_first_of(" ;\\"))));
    for (const std::string& r : requested)
      p.requested = p.requested || RequirementName(r) == NormalizedName(p.name);
    out.push_back(std::move(p));
  }
  if (out.empty()) return Fail(ErrorKind::kMalformed, "uv pip compile printed no package");
  return out;
}

Resolution RunResolver(const CommandRunner& runner, const ResolverRequest& request,
                       const ResolverOptions& options) {
  Deadline d{Clock::now() + options.deadline};
  Resolution uv;
  if (options.tool != ResolverChoice::kPip) {
    uv = RunUv(runner, request, d, options.scratch_dir);
    if (uv.ran || uv.verdict == "conflict" || options.tool == ResolverChoice::kUv) return uv;
  }
  if (d.Passed()) return NoAnswer("no-answer", "no answer within " + Seconds(options.deadline));
  Resolution pip = RunPip(runner, request, d, options.scratch_dir);
  if (!pip.ran && pip.verdict == "no-answer" && pip.message.find("deadline") != std::string::npos)
    pip.message = "pip gave no answer within " + Seconds(options.deadline);
  return pip;
}

ResolverRequest RequestFor(const Plan& plan, const std::optional<Version>& glibc) {
  ResolverRequest r;
  r.python = plan.python.parts.empty() ? *Version::Parse("3") : plan.python;
  r.glibc = glibc;
  r.machine = plan.machine.machine.empty() ? "x86_64" : plan.machine.machine;
  r.index_url = plan.index_url;
  // The PyTorch index serves torch, its companions and their dependencies; PyPI joins only for
  // packages it alone has, and CheckAnswer then catches PyPI's default variant winning.
  if (!plan.index_url.empty() && plan.needs_pypi) r.extra_index_urls.push_back(kPypi);
  r.requirements = plan.constraints;
  return r;
}

void MarkOffline(Plan& plan, const std::string& reason) {
  plan.resolution.ran = false;
  plan.resolution.offline = true;
  if (plan.resolution.verdict.empty() || plan.resolution.verdict == "answered")
    plan.resolution.verdict = "offline";
  plan.resolution.message = reason;
}

void ApplyResolution(Plan& plan, Resolution answer) {
  plan.resolution = std::move(answer);
  Resolution& r = plan.resolution;
  if (!r.ran) {
    r.offline = true;
    return;
  }
  std::string wrong = CheckAnswer(plan, r.packages);
  if (!wrong.empty()) {
    r.ran = true;
    r.offline = true;
    r.verdict = "wrong-variant";
    r.message = wrong;
    return;
  }
  std::map<std::string, std::string> exact;
  for (const ResolvedPackage& p : r.packages) exact[NormalizedName(p.name)] = p.version;
  std::string chose;
  for (const std::string& c : plan.constraints) {
    std::string name = RequirementName(c);
    auto it = exact.find(name);
    if (it == exact.end()) continue;
    size_t end = c.find_first_of("=<>!~; ");
    std::string pin = std::string(Trim(c.substr(0, end))) + "==" + it->second;
    for (std::string& line : plan.requirements)
      if (RequirementName(line) == name) line = pin;
    chose += (chose.empty() ? "" : ", ") + pin;
  }
  r.offline = false;
  r.verdict = "resolved";
  r.message = r.tool + " chose " + chose;
}

}  // namespace dlrig
