// `mesh echo`: the demo app. Flags only; the server is cmd/echo/echo_server.h.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cmd/command.h"
#include "cmd/echo/echo_server.h"
#include "core/base/log.h"
#include "core/loop/signals.h"

namespace mesh::cmd {

namespace {

struct EchoFlags {
  std::string address = "127.0.0.1";
  int port = 8080;
  std::string service = "echo";
  std::string version = "v1";
  std::string pod;
  std::vector<std::string> calls;
  int callTimeoutMs = 5000;
  bool failOnCallError = false;
  double failPercent = 0;
  int delayMs = 0;
  double delayPercent = 100;
};

std::string envOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? value : fallback;
}

int runEcho(const EchoFlags& f) {
  echo::EchoOptions options;
  options.identity = {f.service, f.version, f.pod, envOr("POD_NAMESPACE", "default")};
  if (options.identity.pod.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    options.identity.pod = envOr("POD_NAME", host);
  }
  for (const auto& text : f.calls) {
    auto url = echo::parseHttpUrl(text);
    if (!url.ok()) {
      std::fprintf(stderr, "mesh echo: --call %s\n", url.status().message().c_str());
      return 2;
    }
    options.calls.push_back(*url);
  }
  auto proxy = echo::parseProxy(echo::proxyFromEnvironment());
  if (!proxy.ok()) {
    std::fprintf(stderr, "mesh echo: http_proxy %s\n", proxy.status().message().c_str());
    return 2;
  }
  options.proxy = *proxy;
  options.callTimeout = std::chrono::milliseconds(f.callTimeoutMs);
  options.failOnCallError = f.failOnCallError;
  options.failPercent = f.failPercent;
  options.delay = std::chrono::milliseconds(f.delayMs);
  options.delayPercent = f.delayPercent;
  auto address = core::SocketAddress::parse(f.address, static_cast<std::uint16_t>(f.port));
  if (!address.ok()) {
    std::fprintf(stderr, "mesh echo: --address %s\n", address.status().message().c_str());
    return 2;
  }

  core::Loop loop;
  echo::EchoServer server(loop, std::move(options));
  if (core::Status s = server.listen(*address); !s.ok()) {
    std::fprintf(stderr, "mesh echo: listening on %s: %s\n", address->toString().c_str(),
                 s.message().c_str());
    return 1;
  }
  core::Signal sigint(loop), sigterm(loop);
  auto stop = [&](int) {
    server.close();
    sigint.stop();
    sigterm.stop();
    loop.stop();
  };
  (void)sigint.start(SIGINT, stop);
  (void)sigterm.start(SIGTERM, stop);
  std::printf("listening http=%s\n", server.localAddress().toString().c_str());
  std::fflush(stdout);
  loop.run();
  return 0;
}

void addEcho(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand(
      "echo", "A small demo app that answers with its identity and can call others");
  auto f = std::make_shared<EchoFlags>();
  sub->add_option("--address", f->address, "Address to listen on")->capture_default_str();
  sub->add_option("--port", f->port, "Port to listen on (0 picks a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  sub->add_option("--service", f->service, "Service name to answer with")->capture_default_str();
  sub->add_option("--version", f->version, "Version to answer with")->capture_default_str();
  sub->add_option("--pod", f->pod,
                  "Pod name to answer with (default: $POD_NAME, else the host name)");
  sub->add_option("--call", f->calls,
                  "http:// URL to call for each request, in order, through $http_proxy when set "
                  "(repeatable)");
  sub->add_option("--call-timeout-ms", f->callTimeoutMs, "Time each call may take")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  sub->add_flag(
      "--fail-on-call-error", f->failOnCallError,
      "Answer 502 when a call fails (no answer or 5xx); otherwise report it and answer 200");
  sub->add_option("--fail-percent", f->failPercent, "Share of requests answered 503, 0-100")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sub->add_option("--delay-ms", f->delayMs, "Delay before answering")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  sub->add_option("--delay-percent", f->delayPercent, "Share of requests delayed, 0-100")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  sub->callback([&ctx, f] { ctx.serve = [f] { return runEcho(*f); }; });
}

}  // namespace

MESH_COMMAND("echo", addEcho);

}  // namespace mesh::cmd
