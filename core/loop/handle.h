// The one rule for libuv handles in mesh: every uv handle is owned by exactly one HandleOwner,
// which lives inside the RAII object that uses it (TcpStream, Timer, ...). The owner allocates
// the handle; destroying the owner clears handle->data (so no callback can reach the dead
// object), calls uv_close, and the memory is freed in the close callback, as libuv requires.
//
// Callbacks find their object through handle->data. A callback whose handle->data is null
// belongs to an object that is gone and must return without doing anything. Request
// callbacks (write, connect, shutdown) run with UV_ECANCELED after uv_close and before the
// close callback, so req->handle is still valid memory for them to look at.
#pragma once

#include <uv.h>

#include <string_view>
#include <utility>

#include "core/base/status.h"

namespace mesh::core {

// Maps a libuv error code to a Status: "connect [::1]:9: connection refused (ECONNREFUSED)".
Status uvStatus(int rc, std::string_view what);

template <typename H>
class HandleOwner {
 public:
  HandleOwner() = default;
  ~HandleOwner() { reset(); }
  HandleOwner(const HandleOwner&) = delete;
  HandleOwner& operator=(const HandleOwner&) = delete;

  // Memory for a handle that the caller initialises (uv_*_init) right away. If the init call
  // fails before the handle is registered with the loop, call discard() instead of reset().
  H* allocate(void* owner) {
    reset();
    handle_ = new H{};
    handle_->data = owner;
    return handle_;
  }
  // For an allocated handle whose uv_*_init failed: libuv never saw it, so delete it directly.
  void discard() { delete std::exchange(handle_, nullptr); }

  // Closes the handle; memory goes back in the close callback. No callback reaches the owner
  // after this returns.
  void reset() {
    H* handle = std::exchange(handle_, nullptr);
    if (!handle) return;
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* closed) { delete reinterpret_cast<H*>(closed); });
  }

  H* get() const { return handle_; }
  uv_handle_t* asHandle() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  H* handle_ = nullptr;
};

// The object a callback belongs to, or null when that object has been destroyed.
template <typename T, typename H>
T* ownerOf(H* handle) {
  return static_cast<T*>(handle->data);
}

}  // namespace mesh::core
