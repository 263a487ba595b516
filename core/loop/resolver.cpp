#include "core/loop/resolver.h"

#include <arpa/inet.h>
#include <poll.h>

#include <algorithm>

namespace mesh::core {

namespace {

struct Answer {
  bool done = false;
  int status = ARES_SUCCESS;
  std::vector<std::string> v4, v6;
};

void collect(Answer& answer, int status, ares_addrinfo* result) {
  answer.done = true;
  answer.status = status;
  if (!result) return;
  for (auto* node = result->nodes; node; node = node->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (node->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr, text,
                sizeof text);
      answer.v4.emplace_back(text);
    } else if (node->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr, text,
                sizeof text);
      answer.v6.emplace_back(text);
    }
  }
  ares_freeaddrinfo(result);
}

void appendUnique(std::vector<std::string>& out, const std::vector<std::string>& more) {
  for (const auto& address : more) {
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(address);
  }
}

Result<std::vector<std::string>> toResult(const std::string& name, const Answer& answer) {
  if (!answer.done || answer.status == ARES_ETIMEOUT) {
    return error(Code::timeout, "resolving " + name + ": timed out");
  }
  if (answer.status == ARES_EDESTRUCTION || answer.status == ARES_ECANCELLED) {
    return error(Code::unavailable, "resolving " + name + ": cancelled");
  }
  if (answer.status != ARES_SUCCESS) {
    return error(Code::not_found, "resolving " + name + ": " + ares_strerror(answer.status));
  }
  std::vector<std::string> all;
  appendUnique(all, answer.v4);
  appendUnique(all, answer.v6);
  if (all.empty()) return error(Code::not_found, "resolving " + name + ": no addresses");
  return all;
}

bool isNumeric(const std::string& name) {
  in6_addr scratch{};
  return inet_pton(AF_INET, name.c_str(), &scratch) == 1 ||
         inet_pton(AF_INET6, name.c_str(), &scratch) == 1;
}

Status libraryInit() {
  static const int initStatus = ares_library_init(ARES_LIB_INIT_ALL);
  if (initStatus != ARES_SUCCESS) return error(Code::internal, ares_strerror(initStatus));
  return {};
}

void onBlockingAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  collect(*static_cast<Answer*>(arg), status, result);
}

// Runs the channel until the lookup finishes or the deadline passes.
void drive(ares_channel channel, Answer& answer, int timeoutMs) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (!answer.done && std::chrono::steady_clock::now() < deadline) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int mask = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    pollfd fds[ARES_GETSOCK_MAXNUM];
    int count = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = (ARES_GETSOCK_READABLE(mask, i) ? POLLIN : 0) |
                     (ARES_GETSOCK_WRITABLE(mask, i) ? POLLOUT : 0);
      if (events) fds[count++] = {socks[i], events, 0};
    }
    if (count == 0) break;
    poll(fds, count, 100);
    for (int i = 0; i < count; ++i) {
      ares_socket_t r =
          (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
      ares_socket_t w = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
      ares_process_fd(channel, r, w);
    }
    ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retransmits, timeouts
  }
}

}  // namespace

Result<std::vector<std::string>> resolveBlocking(const std::string& name, int timeoutMs) {
  if (isNumeric(name)) return std::vector<std::string>{name};
  if (Status st = libraryInit(); !st.ok()) return st;
  ares_channel channel = nullptr;
  if (int rc = ares_init(&channel); rc != ARES_SUCCESS) {
    return error(Code::internal, std::string("resolver init: ") + ares_strerror(rc));
  }
  Answer answer;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  ares_getaddrinfo(channel, name.c_str(), nullptr, &hints, onBlockingAddrInfo, &answer);
  drive(channel, answer, timeoutMs);
  ares_destroy(channel);  // fires the callback with ARES_EDESTRUCTION if still pending
  if (answer.status == ARES_EDESTRUCTION) answer.status = ARES_ETIMEOUT;
  return toResult(name, answer);
}

// One lookup in flight inside c-ares.
struct Resolver::Lookup {
  Resolver* owner;
  std::string name;
  Callback callback;
};

// The uv_poll_t watching one of c-ares's sockets.
struct Resolver::SocketWatch {
  Resolver* owner = nullptr;
  ares_socket_t fd = ARES_SOCKET_BAD;
  HandleOwner<uv_poll_t> poll;
};

Resolver::Resolver(Loop& loop, const ResolverOptions& resolverOptions)
    : loop_(loop), options_(resolverOptions), timeout_(loop), deliver_(loop) {
  if (initStatus_ = libraryInit(); !initStatus_.ok()) return;
  // Servers given are checked now, so that a bad option fails every resolve(). Otherwise the
  // channel waits for the first name that is not numeric: c-ares sets up its query tables
  // (72 KiB, all written) in ares_init, and most of mesh up's hundred processes only ever
  // resolve numeric addresses.
  if (!options_.servers.empty()) initStatus_ = openChannel();
}

Status Resolver::openChannel() {
  ares_options options{};
  options.sock_state_cb = &Resolver::onSocketState;
  options.sock_state_cb_data = this;
  options.timeout = static_cast<int>(std::max<std::int64_t>(options_.timeout.count() / 2, 1));
  options.tries = 2;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (int rc = ares_init_options(&channel_, &options, mask); rc != ARES_SUCCESS) {
    channel_ = nullptr;
    return error(Code::internal, std::string("resolver init: ") + ares_strerror(rc));
  }
  if (!options_.servers.empty()) {
    int rc = ares_set_servers_ports_csv(channel_, options_.servers.c_str());
    if (rc != ARES_SUCCESS) {
      return error(Code::invalid,
                   "resolver servers '" + options_.servers + "': " + ares_strerror(rc));
    }
  }
  return {};
}

Resolver::~Resolver() {
  if (destroyed_) *destroyed_ = true;
  destroying_ = true;  // ares_destroy calls back every pending lookup: drop them
  if (channel_) ares_destroy(channel_);
  sockets_.clear();
}

Status Resolver::resolve(const std::string& name, Callback callback) {
  if (!initStatus_.ok()) return initStatus_;
  if (name.empty()) return error(Code::invalid, "resolve: empty name");
  ++pending_;
  if (isNumeric(name)) {
    complete(std::move(callback), std::vector<std::string>{name});
    return {};
  }
  if (!channel_) {
    if (initStatus_ = openChannel(); !initStatus_.ok()) {
      --pending_;
      return initStatus_;
    }
  }
  auto* lookup = new Lookup{this, name, std::move(callback)};
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  // May call onAddrInfo right away (an /etc/hosts hit); complete() defers the callback.
  ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &Resolver::onAddrInfo, lookup);
  rearmTimeout();
  return {};
}

void Resolver::onAddrInfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(arg));
  Answer answer;
  collect(answer, status, result);
  if (lookup->owner->destroying_) return;
  lookup->owner->complete(std::move(lookup->callback), toResult(lookup->name, answer));
}

void Resolver::complete(Callback callback, Result<std::vector<std::string>> result) {
  ready_.push_back(Ready{std::move(callback), std::move(result)});
  if (!deliver_.isActive()) deliver_.start(std::chrono::milliseconds(0), [this] { deliver(); });
}

void Resolver::deliver() {
  auto batch = std::move(ready_);
  ready_.clear();
  bool destroyed = false;
  destroyed_ = &destroyed;
  for (auto& ready : batch) {
    --pending_;
    if (ready.callback) ready.callback(std::move(ready.result));
    if (destroyed) return;  // the rest are dropped with the Resolver
  }
  destroyed_ = nullptr;
}

void Resolver::onSocketState(void* data, ares_socket_t fd, int readable, int writable) {
  auto* self = static_cast<Resolver*>(data);
  if (!readable && !writable) {
    self->sockets_.erase(fd);  // closes the poll before c-ares closes the socket
    return;
  }
  auto& watch = self->sockets_[fd];
  if (!watch) {
    watch = std::make_unique<SocketWatch>();
    watch->owner = self;
    watch->fd = fd;
    if (int rc = uv_poll_init_socket(self->loop_.raw(), watch->poll.allocate(watch.get()), fd);
        rc != 0) {
      watch->poll.discard();  // c-ares times the query out; nothing else to do
      self->sockets_.erase(fd);
      return;
    }
  }
  int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  uv_poll_start(watch->poll.get(), events, &Resolver::onPoll);
}

void Resolver::onPoll(uv_poll_t* poll, int status, int events) {
  auto* watch = ownerOf<SocketWatch>(poll);
  if (!watch) return;
  Resolver* self = watch->owner;
  ares_socket_t fd = watch->fd;
  // On an error, let c-ares read and write so it notices and fails over.
  bool readable = status < 0 || (events & UV_READABLE);
  bool writable = status < 0 || (events & UV_WRITABLE);
  ares_process_fd(self->channel_, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
  self->rearmTimeout();
}

void Resolver::rearmTimeout() {
  timeval tv{};
  if (!ares_timeout(channel_, nullptr, &tv)) {
    timeout_.stop();
    return;
  }
  auto ms = std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000 + 1);
  timeout_.start(ms, [this] {
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearmTimeout();
  });
}

}  // namespace mesh::core
