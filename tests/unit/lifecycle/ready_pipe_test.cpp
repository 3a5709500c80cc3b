// The readiness handshake (contract §2.1): the parent learns "ready" from one byte and "failed"
// from EOF, whichever way the child ends. Each test forks a real child.
#include <csignal>
#include <cstdlib>
#include <utility>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "lifecycle/detach.hpp"
#include "lifecycle/ready_pipe.hpp"

namespace {

using lifecycle::ReadyPipe;

ReadyPipe create_pipe() {
    base::Result<ReadyPipe> created = ReadyPipe::create();
    EXPECT_TRUE(created);
    return *std::move(created);
}

int wait_exit_code(pid_t child) {
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ReadyPipe, ByteFromChildMeansReady) {
    ReadyPipe pipe = create_pipe();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        pipe.become_child();
        ::_exit(pipe.signal_ready() ? 0 : 3);
    }
    EXPECT_EQ(*pipe.wait_for_child(), ReadyPipe::Outcome::Ready);
    EXPECT_EQ(wait_exit_code(child), 0);
}

TEST(ReadyPipe, ChildExitingWithoutSignalIsFailure) {
    ReadyPipe pipe = create_pipe();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        pipe.become_child();
        ::_exit(0); // e.g. an empty config: exit 0 before signalling
    }
    EXPECT_EQ(*pipe.wait_for_child(), ReadyPipe::Outcome::ChildFailed);
    EXPECT_EQ(wait_exit_code(child), 0);
}

TEST(ReadyPipe, ChildKilledIsFailure) {
    ReadyPipe pipe = create_pipe();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        pipe.become_child();
        ::raise(SIGKILL);
        ::_exit(1);
    }
    EXPECT_EQ(*pipe.wait_for_child(), ReadyPipe::Outcome::ChildFailed);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(ReadyPipe, ParentWaitsUntilTheChildSignals) {
    ReadyPipe pipe = create_pipe();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        pipe.become_child();
        ::usleep(200'000);
        ::_exit(pipe.signal_ready() ? 0 : 3);
    }
    EXPECT_EQ(*pipe.wait_for_child(), ReadyPipe::Outcome::Ready);
    EXPECT_EQ(wait_exit_code(child), 0);
}

TEST(ReadyPipe, SignallingAGoneParentDoesNotKillTheChild) {
    ReadyPipe pipe = create_pipe();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        lifecycle::ignore_sigpipe();
        pipe.become_child();
        ::usleep(100'000);
        // The reader below closed its end: the write fails (EPIPE) instead of raising SIGPIPE.
        ::_exit(pipe.signal_ready() ? 3 : 0);
    }
    // The parent gives up its read end as well (as if it had died): no reader is left.
    pipe.become_child();
    EXPECT_EQ(wait_exit_code(child), 0);
}

} // namespace
