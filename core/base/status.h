// Status and Result<T>: the error type for everything that can fail at run time.
// Exceptions are for start-up and config parsing only; the data path returns these.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace mesh::core {

enum class Code {
  ok,
  invalid,       // malformed input from a peer or a file
  not_found,
  denied,        // authentication or authorization refused
  unavailable,   // peer down, connection refused: worth retrying
  timeout,
  too_large,     // a size limit was hit
  internal,
};

const char* codeName(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status okStatus() { return {}; }
  bool ok() const { return code_ == Code::ok; }
  explicit operator bool() const { return ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid: frame larger than 16777216 bytes"
  std::string toString() const;

 private:
  Code code_ = Code::ok;
  std::string message_;
};

inline Status error(Code code, std::string message) { return {code, std::move(message)}; }

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(value_).ok() && "a Result holding a Status must hold an error");
  }

  bool ok() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(value_);
  }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace mesh::core
