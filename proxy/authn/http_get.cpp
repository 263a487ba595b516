// httpGet (jwks_fetcher.h): a small blocking HTTP/1.0 client for the fetcher's own thread.
// HTTP/1.0 so that the answer is never chunked and ends when the server closes. Every wait
// is a poll() of at most 100 ms so that the fetcher's stop flag is seen promptly.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "proxy/authn/jwks_fetcher.h"

namespace mesh::proxy::authn {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxResponse = 1024 * 1024;  // a JWKS is a few KB
constexpr const char* kSystemRoots = "/etc/ssl/certs/ca-certificates.crt";

core::Status fail(const std::string& why) { return core::error(core::Code::unavailable, why); }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

class Connection {
 public:
  Connection(Clock::time_point deadline, const std::atomic<bool>& stop)
      : deadline_(deadline), stop_(stop) {}

  // Waits for `events`; false on timeout or stop.
  bool wait(short events) {
    while (!stop_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_.fd, events, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
    return false;
  }

  core::Status connect(const JwksUrl& url) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(url.port);
    if (int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found); rc != 0)
      return fail("resolving " + url.host + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    std::string last = "no address";
    for (addrinfo* a = found; a; a = a->ai_next) {
      Fd fd{::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol)};
      if (fd.fd < 0) continue;
      if (::connect(fd.fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        last = std::strerror(errno);
        continue;
      }
      std::swap(fd_.fd, fd.fd);
      if (!wait(POLLOUT)) return fail("connecting to " + url.host + ": timed out");
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) return {};
      last = std::strerror(err);
      std::swap(fd_.fd, fd.fd);  // the failed socket closes with `fd`
    }
    return fail("connecting to " + url.host + ":" + port + ": " + last);
  }

  core::Status startTls(const std::string& host) {
    ctx_.reset(SSL_CTX_new(TLS_method()));
    if (!ctx_) return fail("TLS: no context");
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    // SSL_CERT_FILE, as for other TLS clients, else Debian's bundle of the system roots.
    const char* chosen = std::getenv("SSL_CERT_FILE");
    bool loaded = chosen && *chosen && SSL_CTX_load_verify_locations(ctx_.get(), chosen, nullptr);
    if (!loaded && !SSL_CTX_load_verify_locations(ctx_.get(), kSystemRoots, nullptr))
      SSL_CTX_set_default_verify_paths(ctx_.get());
    ERR_clear_error();
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_ || !SSL_set_fd(ssl_.get(), fd_.fd)) return fail("TLS: no session");
    // An address is checked against the certificate's IP entries and sent without SNI.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
    if (!X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())) {
      SSL_set_tlsext_host_name(ssl_.get(), host.c_str());
      X509_VERIFY_PARAM_set1_host(param, host.data(), host.size());
    }
    while (true) {
      int rc = SSL_connect(ssl_.get());
      if (rc == 1) return {};
      if (!retry(rc)) {
        long verify = SSL_get_verify_result(ssl_.get());
        std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify)
                                              : ERR_reason_error_string(ERR_peek_last_error())
                                                    ? ERR_reason_error_string(ERR_peek_last_error())
                                                    : "handshake failed";
        ERR_clear_error();
        return fail("TLS handshake with " + host + ": " + why);
      }
    }
  }

  core::Status writeAll(std::string_view data) {
    while (!data.empty()) {
      long n = ssl_ ? SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()))
                    : ::send(fd_.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (ssl_ ? !retry(static_cast<int>(n)) : !(errno == EAGAIN && wait(POLLOUT)))
        return fail("sending the request failed");
    }
    return {};
  }

  core::Result<std::string> readAll() {
    std::string out;
    char buffer[16384];
    while (true) {
      long n = ssl_ ? SSL_read(ssl_.get(), buffer, sizeof buffer)
                    : ::recv(fd_.fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        out.append(buffer, static_cast<size_t>(n));
        if (out.size() > kMaxResponse) return fail("answer larger than 1 MiB");
        continue;
      }
      if (n == 0) return out;
      if (ssl_) {
        int err = SSL_get_error(ssl_.get(), static_cast<int>(n));
        if (err == SSL_ERROR_ZERO_RETURN) return out;
        if (!retry(static_cast<int>(n))) return fail("reading the answer failed");
      } else if (!(errno == EAGAIN && wait(POLLIN))) {
        return fail(errno == EAGAIN ? "timed out" : "reading the answer failed");
      }
    }
  }

 private:
  // After an SSL call that did not complete: waits for what it needs; false for an error.
  bool retry(int rc) {
    int err = SSL_get_error(ssl_.get(), rc);
    if (err == SSL_ERROR_WANT_READ) return wait(POLLIN);
    if (err == SSL_ERROR_WANT_WRITE) return wait(POLLOUT);
    return false;
  }

  Clock::time_point deadline_;
  const std::atomic<bool>& stop_;
  // Member order is destruction order: the session before the context, both before the fd.
  Fd fd_;
  bssl::UniquePtr<SSL_CTX> ctx_;
  bssl::UniquePtr<SSL> ssl_;
};

}  // namespace

core::Result<std::string> httpGet(const JwksUrl& url, std::chrono::milliseconds timeout,
                                  const std::atomic<bool>& stop) {
  Connection c(Clock::now() + timeout, stop);
  if (auto s = c.connect(url); !s.ok()) return s;
  if (url.tls) {
    if (auto s = c.startTls(url.host); !s.ok()) return s;
  }
  // Appended piece by piece: GCC 12 misreads operator+ chains here (-Wrestrict).
  std::string request = "GET ";
  request.append(url.path).append(" HTTP/1.0\r\nHost: ");
  bool v6 = url.host.find(':') != std::string::npos;
  if (v6) request.append("[");
  request.append(url.host);
  if (v6) request.append("]");
  if ((url.tls && url.port != 443) || (!url.tls && url.port != 80))
    request.append(":").append(std::to_string(url.port));
  request.append("\r\nAccept: application/json\r\nUser-Agent: mesh-proxy\r\n\r\n");
  if (auto s = c.writeAll(request); !s.ok()) return s;
  auto answer = c.readAll();
  if (!answer.ok()) return answer.status();
  size_t end = answer->find("\r\n\r\n");
  if (end == std::string::npos || !answer->starts_with("HTTP/1."))
    return fail("not an HTTP answer");
  std::string_view status(answer->data(), answer->find("\r\n"));
  if (status.size() < 12 || status.substr(9, 3) != "200")
    return fail("answered \"" + std::string(status) + "\"");
  return answer->substr(end + 4);
}

}  // namespace mesh::proxy::authn
