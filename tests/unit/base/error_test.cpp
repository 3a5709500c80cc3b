#include <cerrno>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "base/error.hpp"

namespace {

TEST(OsErrorText, MatchesRustIoErrorDisplay) {
    EXPECT_EQ(base::os_error_text(EADDRINUSE), "Address already in use (os error 98)");
    EXPECT_EQ(base::os_error_text(ENOENT), "No such file or directory (os error 2)");
    EXPECT_EQ(base::strerror_text(EACCES), "Permission denied");
}

TEST(Error, FromErrnoKeepsTheNumber) {
    const base::Error error = base::Error::from_errno(EACCES);
    EXPECT_EQ(error.message(), "Permission denied (os error 13)");
    EXPECT_EQ(error.os_error(), EACCES);
    EXPECT_EQ(base::Error("bad line").os_error(), std::nullopt);
}

TEST(Error, WrapPrefixesContextOutermostFirst) {
    const base::Error inner = base::Error::from_errno("IO error", EADDRINUSE);
    const base::Error outer = inner.wrap("failed to bind udp listener on 10.0.0.1:53");
    EXPECT_EQ(outer.message(), "failed to bind udp listener on 10.0.0.1:53: IO error: Address "
                               "already in use (os error 98)");
    EXPECT_EQ(outer.os_error(), EADDRINUSE);
    // The copy-wrap leaves the original alone.
    EXPECT_EQ(inner.message(), "IO error: Address already in use (os error 98)");
}

TEST(Error, FromStrerrorLeavesOutTheNumber) {
    const base::Error error = base::Error::from_strerror("open /dev/null", ENOENT);
    EXPECT_EQ(error.message(), "open /dev/null: No such file or directory");
    EXPECT_EQ(error.os_error(), ENOENT);
}

TEST(Error, FormatsAsItsMessage) {
    EXPECT_EQ(fmt::format("[{}]", base::Error("x: y")), "[x: y]");
}

base::Result<int> half(int value) {
    if (value % 2 != 0) {
        return base::Error("odd");
    }
    return value / 2;
}

TEST(Result, HoldsValueOrError) {
    const base::Result<int> good = half(8);
    ASSERT_TRUE(good);
    EXPECT_EQ(*good, 4);
    const base::Result<int> bad = half(3);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "odd");
}

TEST(Result, StringValueIsNotMistakenForAnError) {
    const base::Result<std::string> text = std::string("odd");
    ASSERT_TRUE(text);
    EXPECT_EQ(text->size(), 3U);
}

TEST(Result, MovesOutMoveOnlyValues) {
    base::Result<std::unique_ptr<int>> owned = std::make_unique<int>(7);
    const std::unique_ptr<int> taken = *std::move(owned);
    EXPECT_EQ(*taken, 7);
}

base::Result<void> must_be_positive(int value) {
    if (value <= 0) {
        return base::Error::from_errno("check", EINVAL);
    }
    return {};
}

TEST(ResultVoid, DefaultIsSuccess) {
    EXPECT_TRUE(must_be_positive(1));
    const base::Result<void> failed = must_be_positive(0);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().message(), "check: Invalid argument (os error 22)");
    EXPECT_EQ(failed.error().os_error(), EINVAL);
}

} // namespace
