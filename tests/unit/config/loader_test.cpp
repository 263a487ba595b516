// Loading whole files and directories: the shapes Istio users keep their config in.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/config/loader.h"

using namespace mesh::core::config;
namespace fs = std::filesystem;

namespace {

const std::string kData = MESH_CONFIG_TESTDATA;

const Resource* find(const LoadResult& r, const std::string& kind, const std::string& name) {
  for (const auto& res : r.resources) {
    if (res.kind == kind && res.name == name) return &res;
  }
  return nullptr;
}

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    char pattern[] = "/tmp/mesh_config_XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    fs::create_directories((path / name).parent_path());
    std::ofstream(path / name) << text;
  }
};

}  // namespace

TEST_CASE("the Bookinfo sample loads without errors, every document of the file",
          "[config]") {
  LoadResult r = loadPath(kData + "/bookinfo.yaml");
  INFO(formatErrors(r.errors));
  REQUIRE(r.ok());
  CHECK(r.skipped.empty());
  REQUIRE(r.resources.size() == 9);
  CHECK(r.resources[0].kind == "Service");
  CHECK(r.resources[0].name == "productpage");
  CHECK(r.resources[0].line == 3);
  CHECK(r.resources[0].file == kData + "/bookinfo.yaml");

  const Resource* reviews = find(r, "VirtualService", "reviews");
  REQUIRE(reviews != nullptr);
  CHECK(reviews->apiVersion == "networking.istio.io/v1");
  CHECK(reviews->group() == "networking.istio.io");
  CHECK(reviews->version() == "v1");
  CHECK(reviews->ref() == "VirtualService default/reviews");
  CHECK(reviews->nsFromFile);
  CHECK(reviews->line == 96);
  CHECK(reviews->lineOf("/spec/http/0/match/0/headers/end-user/exact") == 109);
  CHECK(reviews->lineOf("/spec/http/1/route/0/weight") == 123);
  CHECK(reviews->lineOf("/spec/http/1/route/1/weight") == 127);
  // A field that is not there points at the nearest one that is.
  CHECK(reviews->lineOf("/spec/http/1/route/1/headers") == reviews->lineOf("/spec/http/1/route/1"));
  CHECK(reviews->spec["http"][1]["route"][1]["weight"] == 50);
  CHECK(reviews->spec["http"][0]["timeout"] == "1.5s");

  const Resource* bookinfo = find(r, "VirtualService", "bookinfo");
  REQUIRE(bookinfo != nullptr);
  CHECK(bookinfo->ns == "default");
  CHECK_FALSE(bookinfo->nsFromFile);
  CHECK(bookinfo->spec["hosts"][0] == "*");

  const Resource* dr = find(r, "DestinationRule", "reviews");
  REQUIRE(dr != nullptr);
  CHECK(dr->spec["subsets"].size() == 3);
  CHECK(dr->spec["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 100);

  const Resource* pa = find(r, "PeerAuthentication", "default");
  REQUIRE(pa != nullptr);
  CHECK(pa->ns == "istio-system");

  const Resource* svc = find(r, "Service", "reviews");
  REQUIRE(svc != nullptr);
  CHECK(svc->labels.at("app") == "reviews");
  CHECK(svc->spec["ports"][0]["port"] == 9080);

  const Resource* gw = find(r, "Gateway", "bookinfo-gateway");
  REQUIRE(gw != nullptr);
  CHECK(gw->spec["selector"]["istio"] == "ingressgateway");
}

TEST_CASE("a JSON Kubernetes List loads each item with its own lines", "[config]") {
  LoadResult r = loadPath(kData + "/list.json");
  INFO(formatErrors(r.errors));
  REQUIRE(r.ok());
  REQUIRE(r.resources.size() == 2);
  const Resource& vs = r.resources[0];
  CHECK(vs.ref() == "VirtualService bookinfo/ratings");
  CHECK(vs.line == 5);  // the item's opening brace
  CHECK(vs.lineOf("/spec/http/0/fault/delay/fixedDelay") == 13);
  CHECK(vs.spec["http"][0]["fault"]["delay"]["percentage"]["value"] == 10.5);
  CHECK(r.resources[1].ref() == "DestinationRule bookinfo/ratings");
  CHECK(r.resources[1].line == 19);
}

TEST_CASE("a directory loads recursively, yaml/yml/json only, in sorted path order",
          "[config]") {
  LoadResult r = loadPath(kData + "/dir");
  INFO(formatErrors(r.errors));
  REQUIRE(r.ok());
  REQUIRE(r.resources.size() == 4);
  CHECK(r.resources[0].file == kData + "/dir/a.yml");
  CHECK(r.resources[0].kind == "Namespace");
  CHECK(r.resources[1].file == kData + "/dir/b.yaml");
  CHECK(r.resources[1].kind == "ServiceEntry");
  CHECK(r.resources[2].file == kData + "/dir/sub/a.yaml");
  CHECK(r.resources[2].kind == "WorkloadEntry");
  CHECK(r.resources[3].file == kData + "/dir/sub/c.json");
  CHECK(r.resources[3].kind == "Sidecar");
  CHECK(r.resources[3].ns == "bookinfo");
}

TEST_CASE("a single JSON object file loads", "[config]") {
  TempDir dir;
  dir.write("pa.json",
            R"({"apiVersion":"security.istio.io/v1","kind":"PeerAuthentication",)"
            "\n"
            R"("metadata":{"name":"strict"},"spec":{"mtls":{"mode":"STRICT"}}})");
  LoadResult r = loadPath(dir.path / "pa.json");
  INFO(formatErrors(r.errors));
  REQUIRE(r.ok());
  REQUIRE(r.resources.size() == 1);
  CHECK(r.resources[0].spec["mtls"]["mode"] == "STRICT");
  CHECK(r.resources[0].lineOf("/spec/mtls/mode") == 2);
}

TEST_CASE("an unknown kind is skipped with a note, not an error", "[config]") {
  LoadResult r;
  loadText(
      "apiVersion: v1\n"
      "kind: ConfigMap\n"
      "metadata:\n"
      "  name: settings\n"
      "data:\n"
      "  anything: [goes, here]\n"
      "---\n"
      "apiVersion: gateway.networking.k8s.io/v1\n"
      "kind: Gateway\n"
      "metadata:\n"
      "  name: k8s-gateway\n"
      "spec: {gatewayClassName: istio}\n",
      "mixed.yaml", r);
  CHECK(r.ok());
  CHECK(r.resources.empty());
  REQUIRE(r.skipped.size() == 2);
  CHECK(r.skipped[0].toString() == "mixed.yaml:1: skipped ConfigMap settings (v1): not a kind mesh reads");
  CHECK(r.skipped[1].line == 8);
  CHECK(r.skipped[1].kind == "Gateway");
  CHECK(r.skipped[1].apiVersion == "gateway.networking.k8s.io/v1");
}

TEST_CASE("a Secret's type and data are kept as its spec; bad base64 is an error that does "
          "not quote it", "[config]") {
  LoadResult r;
  loadText(
      "apiVersion: v1\n"
      "kind: Secret\n"
      "metadata: {name: cert, namespace: istio-system}\n"
      "type: kubernetes.io/tls\n"
      "data:\n"
      "  tls.crt: Y2hhaW4tcGVt\n"
      "  tls.key: a2V5LXBlbQ==\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Secret\n"
      "metadata: {name: broken}\n"
      "data:\n"
      "  tls.key: not*base64!\n"
      "spec: {}\n",
      "secrets.yaml", r);
  REQUIRE(r.resources.size() == 1);
  const auto& secret = r.resources[0];
  CHECK(secret.kind == "Secret");
  CHECK(secret.ns == "istio-system");
  CHECK(secret.spec["type"] == "kubernetes.io/tls");
  CHECK(secret.spec["data"]["tls.key"] == "a2V5LXBlbQ==");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].line == 13);
  CHECK(r.errors[0].field == "data[\"tls.key\"]");
  CHECK(r.errors[0].toString().find("not*base64") == std::string::npos);
  CHECK(r.errors[1].field == "spec");
}

TEST_CASE("a broken document leaves the good documents around it loaded", "[config]") {
  LoadResult r;
  loadText(
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata: {name: first}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata:\n"
      "  name: [broken\n"
      "---\n"
      "apiVersion: networking.istio.io/v1\n"
      "kind: VirtualService\n"
      "metadata: {name: bad}\n"
      "spec: {hosts: [x], http: [{route: [{destination: {host: x}, weight: 101}]}]}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata: {name: last}\n",
      "three.yaml", r);
  REQUIRE(r.resources.size() == 2);
  CHECK(r.resources[0].name == "first");
  CHECK(r.resources[1].name == "last");
  CHECK(r.resources[1].line == 15);
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].file == "three.yaml");
  CHECK(r.errors[0].line == 9);  // the unclosed flow sequence reaches the end of its document
  CHECK(r.errors[1].toString() ==
        "three.yaml:13: VirtualService default/bad: spec.http[0].route[0].weight: "
        "must be an integer between 0 and 100");
}

TEST_CASE("missing files and unreadable paths are errors naming the path", "[config]") {
  LoadResult r = loadPath("/nonexistent/mesh/config.yaml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].toString() == "/nonexistent/mesh/config.yaml: no such file or directory");
}

TEST_CASE("empty files and documents load nothing and complain about nothing", "[config]") {
  LoadResult r;
  loadText("", "empty.yaml", r);
  loadText("# only a comment\n---\n---\n", "comments.yaml", r);
  loadText("%YAML 1.2\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", "d.yaml",
           r);
  // A document ended by "..." and the next one begun without "---".
  loadText("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n...\n"
           "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
           "ends.yaml", r);
  // An empty document ("---" twice, as files joined with a trailing "---" give) does not
  // hide the one after it.
  loadText("---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: c}\n", "twice.yaml", r);
  INFO(formatErrors(r.errors));
  CHECK(r.ok());
  REQUIRE(r.resources.size() == 4);
  CHECK(r.resources[0].line == 3);
  CHECK(r.resources[2].name == "b");
  CHECK(r.resources[2].line == 5);
  CHECK(r.resources[3].name == "c");
  CHECK(r.resources[3].line == 3);
}

TEST_CASE("input that sends yaml-cpp's multi-document loader into a loop loads quickly",
          "[config]") {
  LoadResult r;
  loadText(",", "comma.yaml", r);
  loadText(",{ \n ap ap\xe9Version\": \"v1\",PeerAuthenticonisa", "fuzz.yaml", r);
  // yaml-cpp reads these as empty documents; what matters is that loading returns.
  CHECK(r.resources.empty());
}

TEST_CASE("known kinds are known only at their supported versions", "[config]") {
  CHECK(isKnownKind("networking.istio.io/v1alpha3", "VirtualService"));
  CHECK(isKnownKind("security.istio.io/v1beta1", "AuthorizationPolicy"));
  CHECK(isKnownKind("v1", "Service"));
  CHECK(isKnownKind("apps/v1", "Deployment"));
  CHECK_FALSE(isKnownKind("security.istio.io/v1alpha3", "AuthorizationPolicy"));
  CHECK_FALSE(isKnownKind("gateway.networking.k8s.io/v1", "Gateway"));
  CHECK_FALSE(isKnownKind("v1", "ConfigMap"));
}
