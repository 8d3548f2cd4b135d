#include "core/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dlrig {
namespace {

using Clock = std::chrono::steady_clock;

void Drain(int fd, std::string& sink, size_t cap, bool& truncated, bool& open) {
  char buf[8192];
  ssize_t n = ::read(fd, buf, sizeof buf);
  if (n > 0) {
    size_t room = cap > sink.size() ? cap - sink.size() : 0;
    if (static_cast<size_t>(n) > room) truncated = true;
    sink.append(buf, std::min(room, static_cast<size_t>(n)));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    open = false;
  }
}

}  // namespace

Result<ExecResult> NoRunner::Run(const std::vector<std::string>& argv, const ExecOptions&) const {
  return Fail(ErrorKind::kUnsupported,
              (argv.empty() ? std::string("command") : argv[0]) +
                  ": not run (inspecting a foreign root)");
}

Result<ExecResult> SystemRunner::Run(const std::vector<std::string>& argv,
                                     const ExecOptions& options) const {
  if (argv.empty()) return Fail(ErrorKind::kMalformed, "empty argument vector");
  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Fail(ErrorKind::kIo, "pipe failed");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Fail(ErrorKind::kIo, "pipe failed");
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return Fail(ErrorKind::kIo, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execvp(args[0], args.data());
    int err = errno;
    (void)!::write(exec_pipe[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);
  int exec_errno = 0;
  bool exec_failed = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  ::close(exec_pipe[0]);

  ExecResult result;
  bool out_open = true, err_open = true, timed_out = false;
  auto deadline = Clock::now() + options.deadline;
  while (!exec_failed && (out_open || err_open)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out_pipe[0] : -1, POLLIN, 0},
                     {err_open ? err_pipe[0] : -1, POLLIN, 0}};
    int rc = ::poll(fds, 2, static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents) Drain(out_pipe[0], result.out, options.max_output_bytes, result.truncated, out_open);
    if (fds[1].revents) Drain(err_pipe[0], result.err, options.max_output_bytes, result.truncated, err_open);
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  // The pipes are closed, so the child cannot block on output; give it until the deadline.
  while (::waitpid(pid, &status, timed_out ? 0 : WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      timed_out = true;
    }
    ::usleep(1000);
  }
  if (exec_failed)
    return Fail(exec_errno == ENOENT ? ErrorKind::kNotFound : ErrorKindFromErrno(exec_errno),
                argv[0] + ": " + std::strerror(exec_errno));
  if (timed_out)
    return Fail(ErrorKind::kTimeout,
                argv[0] + ": no answer within " + std::to_string(options.deadline.count()) + " ms");
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace dlrig
