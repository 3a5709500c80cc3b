// Inherited fds, stdio detaching and signal dispositions, each checked in a forked child that
// reports through its exit code (these calls change the whole process).
#include <array>
#include <csignal>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "lifecycle/detach.hpp"

namespace {

/// Runs `body` in a child; its return value becomes the exit code the test checks.
template <typename Body>
int in_child(Body body) {
    const pid_t child = ::fork();
    if (child == 0) {
        ::_exit(body());
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

std::string link_target(const std::string& path) {
    std::array<char, 256> buffer{};
    const ssize_t size = ::readlink(path.c_str(), buffer.data(), buffer.size() - 1);
    return size < 0 ? std::string() : std::string(buffer.data(), static_cast<std::size_t>(size));
}

TEST(CloseInheritedFds, ClosesEverythingAboveStderr) {
    EXPECT_EQ(in_child([] {
                  if (::dup2(STDERR_FILENO, 9) != 9 || ::open("/dev/null", O_RDONLY) < 0) {
                      return 2;
                  }
                  lifecycle::close_inherited_fds();
                  if (::fcntl(9, F_GETFD) != -1 || errno != EBADF) {
                      return 3; // the fd 9 of aardvark's test 700 survived
                  }
                  for (int fd = 0; fd <= 2; ++fd) {
                      if (::fcntl(fd, F_GETFD) == -1) {
                          return 4;
                      }
                  }
                  // Nothing above 2 is left: the next open gets 3.
                  const int next = ::open("/dev/null", O_RDONLY);
                  return next == 3 ? 0 : 5;
              }),
              0);
}

TEST(DetachFromCaller, NewSessionAndDevNullOnStdio) {
    EXPECT_EQ(in_child([] {
                  // The lowest free fd now: detaching must not leave its own /dev/null fd there.
                  const int probe = ::open("/dev/null", O_RDONLY);
                  ::close(probe);
                  if (!lifecycle::detach_from_caller()) {
                      return 2;
                  }
                  if (::getsid(0) != ::getpid()) {
                      return 3;
                  }
                  for (const char* fd : {"0", "1", "2"}) {
                      if (link_target(std::string("/proc/self/fd/") + fd) != "/dev/null") {
                          return 4;
                      }
                  }
                  return ::fcntl(probe, F_GETFD) == -1 ? 0 : 5;
              }),
              0);
}

TEST(DetachFromCaller, WorksWhenStdioWasClosed) {
    EXPECT_EQ(in_child([] {
                  ::close(STDIN_FILENO);
                  ::close(STDOUT_FILENO);
                  if (!lifecycle::detach_from_caller()) {
                      return 2;
                  }
                  for (const char* fd : {"0", "1", "2"}) {
                      if (link_target(std::string("/proc/self/fd/") + fd) != "/dev/null") {
                          return 4;
                      }
                  }
                  return 0;
              }),
              0);
}

TEST(Signals, InheritedIgnoreIsSeen) {
    EXPECT_EQ(in_child([] {
                  std::signal(SIGTERM, SIG_IGN);
                  std::signal(SIGINT, SIG_DFL);
                  return lifecycle::is_signal_ignored(SIGTERM) &&
                                 !lifecycle::is_signal_ignored(SIGINT)
                             ? 0
                             : 1;
              }),
              0);
}

TEST(Signals, SigpipeIsIgnored) {
    EXPECT_EQ(in_child([] {
                  lifecycle::ignore_sigpipe();
                  std::array<int, 2> fds{};
                  if (::pipe(fds.data()) != 0) {
                      return 2;
                  }
                  ::close(fds[0]);
                  const char byte = 'x';
                  // Without SIG_IGN this write kills the child with SIGPIPE.
                  return ::write(fds[1], &byte, 1) == -1 && errno == EPIPE ? 0 : 3;
              }),
              0);
}

} // namespace
