// base/: the one convention for system errors outside the packet path: a function that can fail
// returns `Result<T>` (or `Result<void>`), whose failure is an `Error`: the message a user reads
// plus the errno it came from, if any. Callers add what they were doing with `wrap("context")`, so
// messages read like aardvark's `.wrap()` chains ("failed to bind ...: IO error: ... (os error
// 98)"). Packet input (dns/, query/) keeps its status enums: no allocation there. Depends only on
// std and fmt; must not depend on asio, on any other layer, or on the logging facade.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace base {

/// strerror(3) text, thread-safe: "Address already in use".
std::string strerror_text(int error_number);

/// Rust's io::Error Display, which aardvark's messages embed: "<strerror> (os error N)". The only
/// place that text is built.
std::string os_error_text(int error_number);

class Error {
public:
    /// A failure with no errno behind it (a malformed file, a refused request).
    explicit Error(std::string message)
        : message_(std::move(message)) {}

    /// A failure whose text the caller composed around `error_number` (kept for tests and for
    /// callers that branch on it, e.g. EEXIST).
    Error(std::string message, int error_number)
        : message_(std::move(message))
        , os_error_(error_number) {}

    /// "<strerror> (os error N)", ready to be wrapped.
    static Error from_errno(int error_number) {
        return {os_error_text(error_number), error_number};
    }

    /// "<context>: <strerror> (os error N)".
    static Error from_errno(std::string_view context, int error_number) {
        return from_errno(error_number).wrap(context);
    }

    /// "<context>: <strerror>", errno kept: ctrdns's own messages, which need not match
    /// aardvark's and leave out the "(os error N)".
    static Error from_strerror(std::string_view context, int error_number) {
        return Error(strerror_text(error_number), error_number).wrap(context);
    }

    /// "<context>: <message>", keeping the errno: the outer layer says what it was doing.
    [[nodiscard]] Error wrap(std::string_view context) const& { return Error(*this).wrap(context); }

    [[nodiscard]] Error wrap(std::string_view context) && {
        message_.insert(0, fmt::format("{}: ", context));
        return std::move(*this);
    }

    const std::string& message() const noexcept { return message_; }

    /// The errno this failure came from; nullopt when it has none.
    std::optional<int> os_error() const noexcept { return os_error_; }

    friend bool operator==(const Error&, const Error&) = default;

private:
    std::string message_;
    std::optional<int> os_error_;
};

/// A value or the Error that prevented it. Deliberately small (gcc 12 has no std::expected):
/// test with `if (result)` or `ok()`, then read `*result` or `result.error()`.
template <typename T>
class [[nodiscard]] Result {
    static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

public:
    Result(T value) // NOLINT(google-explicit-constructor): `return value;` is the point
        : state_(std::in_place_index<0>, std::move(value)) {}

    Result(Error error) // NOLINT(google-explicit-constructor): `return Error(...);` likewise
        : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return state_.index() == 0; }

    explicit operator bool() const noexcept { return ok(); }

    /// Precondition: ok().
    T& value() & { return std::get<0>(state_); }

    const T& value() const& { return std::get<0>(state_); }

    T&& value() && { return std::get<0>(std::move(state_)); }

    T& operator*() & { return value(); }

    const T& operator*() const& { return value(); }

    T&& operator*() && { return std::move(*this).value(); }

    T* operator->() { return &value(); }

    const T* operator->() const { return &value(); }

    /// Precondition: !ok().
    const Error& error() const& { return std::get<1>(state_); }

    Error&& error() && { return std::get<1>(std::move(state_)); }

private:
    std::variant<T, Error> state_;
};

/// Success (default-constructed, `return {};`) or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;

    Result(Error error) // NOLINT(google-explicit-constructor): `return Error(...);`
        : error_(std::move(error)) {}

    bool ok() const noexcept { return !error_.has_value(); }

    explicit operator bool() const noexcept { return ok(); }

    /// Precondition: !ok().
    const Error& error() const& { return *error_; }

    Error&& error() && { return std::move(*error_); }

private:
    std::optional<Error> error_;
};

} // namespace base

/// `fmt::format("{}", error)` prints the message, so log lines need no `.message()`.
template <>
struct fmt::formatter<base::Error> : fmt::formatter<std::string_view> {
    template <typename FormatContext>
    auto format(const base::Error& error, FormatContext& context) const {
        return fmt::formatter<std::string_view>::format(error.message(), context);
    }
};
