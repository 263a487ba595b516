#include <catch2/catch.hpp>

#include <algorithm>

#include "cmd/up/launch.h"

namespace up = mesh::cmd::up;

namespace {

up::Workload echoWorkload(std::vector<std::string> command) {
  up::Workload w;
  w.name = "productpage-v1";
  w.ns = "default";
  w.serviceAccount = "bookinfo-productpage";
  w.labels = {{"app", "productpage"}, {"version", "v1"}};
  w.command = std::move(command);
  w.ports = {9080};
  w.env = {{"GREETING", "hi $(POD_NAME)", ""}, {"WHERE", "", "metadata.namespace"}};
  return w;
}

up::Pod podOf(const up::Workload& w) {
  up::Pod pod;
  pod.name = w.name + "-0";
  pod.workload = &w;
  pod.ports = {41001, 41002, 41003, 41004, 41005};
  return pod;
}

bool contains(const std::vector<std::string>& v, const std::vector<std::string>& run) {
  return std::search(v.begin(), v.end(), run.begin(), run.end()) != v.end();
}

}  // namespace

TEST_CASE("the app runs this binary, on its own port instead of the containerPort") {
  auto w = echoWorkload({"mesh", "echo", "--service", "productpage", "--port", "9080"});
  auto pod = podOf(w);
  auto argv = up::appArgv(pod, "/opt/mesh", up::podEnv(pod));
  CHECK(argv == std::vector<std::string>{"/opt/mesh", "echo", "--service", "productpage", "--port",
                                         "41001"});

  w.command = {"mesh", "echo", "--port=9080"};
  CHECK(up::appArgv(pod, "/opt/mesh", {}).back() == "--port=41001");
  // No --port at all: one is added. Another program than mesh keeps its name.
  w.command = {"python3", "app.py"};
  CHECK(up::appArgv(pod, "/opt/mesh", {}) ==
        std::vector<std::string>{"python3", "app.py", "--port", "41001"});
  // A --port that is not the containerPort is the app's business.
  w.command = {"mesh", "echo", "--port", "7000"};
  CHECK(up::appArgv(pod, "/opt/mesh", {}).back() == "7000");
  // `mesh` is replaced only as the program, not as an argument.
  w.command = {"mesh", "echo", "--service", "mesh"};
  CHECK(up::appArgv(pod, "/opt/mesh", {})[3] == "mesh");
}

TEST_CASE("pod environment: downward API, identity and the sidecar as http_proxy") {
  auto w = echoWorkload({"mesh", "echo"});
  auto env = up::podEnv(podOf(w));
  CHECK(env["POD_NAME"] == "productpage-v1-0");
  CHECK(env["POD_NAMESPACE"] == "default");
  CHECK(env["SERVICE_ACCOUNT"] == "bookinfo-productpage");
  CHECK(env["http_proxy"] == "http://127.0.0.1:41003");
  CHECK(env["WHERE"] == "default");
  // $(POD_NAME) refers to a variable defined later: Kubernetes leaves it as written.
  CHECK(env["GREETING"] == "hi $(POD_NAME)");
}

TEST_CASE("$(VAR) expansion follows Kubernetes") {
  std::map<std::string, std::string> env = {{"A", "1"}, {"POD_NAME", "p-0"}};
  CHECK(up::expandVars("x$(A)y$(POD_NAME)", env) == "x1yp-0");
  CHECK(up::expandVars("$(MISSING) $$(A) $ $(", env) == "$(MISSING) $(A) $ $(");
}

TEST_CASE("the sidecar announces the containerPort and sends it to the app's port") {
  auto w = echoWorkload({"mesh", "echo"});
  auto pod = podOf(w);
  up::ControlPlane cp{"/opt/mesh", "127.0.0.1:1", "/state/ca/trust-bundle.pem", "127.0.0.1:2", {}};
  auto args = up::sidecarArgs(pod, cp, "/state/tokens/t");
  CHECK(args.front() == "proxy");
  CHECK(contains(args, {"--port", "9080"}));
  CHECK(contains(args, {"--app-port", "9080=41001"}));
  CHECK(contains(args, {"--sidecar-port", "41002"}));
  CHECK(contains(args, {"--inbound-address", "127.0.0.1"}));
  CHECK(contains(args, {"--listener-port", "15001=127.0.0.1:41003"}));
  CHECK(contains(args, {"--admin", "127.0.0.1:41004"}));
  CHECK(contains(args, {"--readiness", "127.0.0.1:41005"}));
  CHECK(contains(args, {"--label", "app=productpage"}));
  CHECK(contains(args, {"--label", "version=v1"}));
  CHECK(contains(args, {"--namespace", "default", "--service-account", "bookinfo-productpage"}));
  CHECK(contains(args, {"--node", "productpage-v1-0.default"}));
  CHECK(contains(args, {"--token-file", "/state/tokens/t"}));
  CHECK(contains(args, {"--workload", "productpage-v1"}));
  CHECK(contains(args, {"--stats", ""}));
}

TEST_CASE("children do not inherit the caller's proxy settings") {
  std::string a = "PATH=/bin", b = "http_proxy=http://corp:3128", c = "NO_PROXY=x",
              d = "POD_NAME=old";
  char* ours[] = {a.data(), b.data(), c.data(), d.data(), nullptr};
  auto env =
      up::childEnvironment(ours, {{"POD_NAME", "p-0"}, {"http_proxy", "http://127.0.0.1:9"}});
  std::sort(env.begin(), env.end());
  CHECK(env ==
        std::vector<std::string>{"PATH=/bin", "POD_NAME=p-0", "http_proxy=http://127.0.0.1:9"});
}

TEST_CASE("mesh's own processes run without glibc's per-thread malloc cache and fast bins") {
  std::string a = "PATH=/bin", b = "http_proxy=http://corp:3128";
  char* plain[] = {a.data(), b.data(), nullptr};
  auto env = up::meshEnvironment(plain, {{"POD_NAME", "p-0"}});
  std::sort(env.begin(), env.end());
  CHECK(env == std::vector<std::string>{
                   "GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.mxfast=0",
                   "PATH=/bin", "POD_NAME=p-0"});

  // The caller's tunables stay, these added; a setting the caller chose is kept.
  std::string other = "GLIBC_TUNABLES=glibc.malloc.arena_max=2";
  char* withOther[] = {a.data(), other.data(), nullptr};
  auto added = up::meshEnvironment(withOther);
  CHECK(std::count(added.begin(), added.end(),
                   "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.tcache_count=0:"
                   "glibc.malloc.mxfast=0") == 1);
  std::string chosen = "GLIBC_TUNABLES=glibc.malloc.tcache_count=4";
  char* withChosen[] = {chosen.data(), nullptr};
  CHECK(up::meshEnvironment(withChosen) ==
        std::vector<std::string>{chosen + ":glibc.malloc.mxfast=0"});
  std::string both = "GLIBC_TUNABLES=glibc.malloc.mxfast=64:glibc.malloc.tcache_count=4";
  char* withBoth[] = {both.data(), nullptr};
  CHECK(up::meshEnvironment(withBoth) == std::vector<std::string>{both});
}

TEST_CASE("the ingress gateway serves each Gateway port on its local port") {
  up::Workload w;
  w.name = "istio-ingressgateway";
  w.ns = "istio-system";
  w.serviceAccount = "istio-ingressgateway-service-account";
  w.labels = {{"istio", "ingressgateway"}};
  up::Pod pod;
  pod.name = "istio-ingressgateway";
  pod.workload = &w;
  pod.ports.admin = 41010;
  pod.ports.readiness = 41011;
  up::ControlPlane cp{"/opt/mesh", "127.0.0.1:1", "/ca.pem", "127.0.0.1:2",
                      {"--zipkin-address", "127.0.0.1:9411"}};
  auto args = up::gatewayArgs(pod, cp, "/t", {{8080, 18080}, {8443, 41012}});
  CHECK(contains(args, {"--zipkin-address", "127.0.0.1:9411"}));  // mesh up --zipkin-address
  CHECK(contains(args, {"proxy", "--gateway", "--gateway-address", "127.0.0.1"}));
  CHECK(contains(args, {"--listener-port", "8080=127.0.0.1:18080"}));
  CHECK(contains(args, {"--listener-port", "8443=127.0.0.1:41012"}));
  CHECK(contains(args, {"--label", "istio=ingressgateway"}));
  CHECK(contains(args, {"--namespace", "istio-system", "--service-account",
                        "istio-ingressgateway-service-account"}));
  CHECK(std::find(args.begin(), args.end(), "--sidecar-port") == args.end());
}

TEST_CASE("a pod with its own address (--netns): Istio's ports, capture, no http_proxy") {
  auto w = echoWorkload({"mesh", "echo", "--service", "productpage"});
  up::Pod pod;
  pod.name = "productpage-v1-0";
  pod.workload = &w;
  pod.ports = {9080, 15006, 15001, 15000, 15021};
  pod.address = "10.16.0.7";
  CHECK(up::podEnv(pod).count("http_proxy") == 0);
  auto argv = up::appArgv(pod, "/opt/mesh", up::podEnv(pod));
  CHECK(contains(argv, {"--port", "9080"}));  // the containerPort itself
  up::ControlPlane cp{"/opt/mesh", "10.16.0.1:1", "/pods/p/root.pem", "10.16.0.1:2", {}};
  auto args = up::sidecarArgs(pod, cp, "/pods/p/token");
  CHECK(contains(args, {"--address", "10.16.0.7"}));
  CHECK(contains(args, {"--admin", "10.16.0.7:15000"}));
  CHECK(contains(args, {"--readiness", "0.0.0.0:15021"}));
  CHECK(contains(args, {"--sidecar-port", "15006"}));  // peers see a sidecar: auto mTLS
  CHECK(contains(args, {"--pilot-address", "10.16.0.1:2"}));
  for (const char* loopbackOnly : {"--listener-port", "--inbound-address", "--app-port"})
    CHECK(std::find(args.begin(), args.end(), loopbackOnly) == args.end());
}
