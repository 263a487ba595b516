#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pilot/kube/kubectl.h"

namespace fs = std::filesystem;
namespace kube = mesh::pilot::kube;

namespace {

// A directory holding a stand-in kubectl: a shell script that records its arguments and the
// manifests it was given, and exits with the status the test asks for.
struct FakeKubectl {
  fs::path dir;
  explicit FakeKubectl(int exitCode) {
    char pattern[] = "/tmp/mesh-kubectl-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    std::ofstream script(dir / "kubectl");
    script << "#!/bin/sh\necho \"$@\" > " << (dir / "args").string() << "\n"
           << "while [ $# -gt 1 ]; do shift; done\ncat \"$1\" > " << (dir / "input").string()
           << "\nexit " << exitCode << "\n";
    script.close();
    fs::permissions(dir / "kubectl", fs::perms::owner_all);
  }
  ~FakeKubectl() { fs::remove_all(dir); }
  std::string read(const char* name) const {
    std::ifstream in(dir / name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

}  // namespace

TEST_CASE("kubectl is looked up in PATH like a shell does") {
  FakeKubectl fake(0);
  CHECK(kube::findExecutable("kubectl", "/nonexistent:" + fake.dir.string()) ==
        (fake.dir / "kubectl").string());
  CHECK(kube::findExecutable("kubectl", "/nonexistent").empty());
  CHECK(kube::findExecutable((fake.dir / "kubectl").string(), "") ==
        (fake.dir / "kubectl").string());
  CHECK(kube::findExecutable((fake.dir / "args").string(), "").empty());  // not executable
}

TEST_CASE("kubectl gets the manifests as a file and its exit status comes back") {
  FakeKubectl fake(0);
  auto rc = kube::runKubectl((fake.dir / "kubectl").string(), {"apply"}, "kind: A\n");
  REQUIRE(rc.ok());
  CHECK(*rc == 0);
  CHECK(fake.read("args").rfind("apply -f /", 0) == 0);
  CHECK(fake.read("input") == "kind: A\n");

  FakeKubectl failing(3);
  auto failed = kube::runKubectl((failing.dir / "kubectl").string(), {"delete"}, "x");
  REQUIRE(failed.ok());
  CHECK(*failed == 3);
}

TEST_CASE("a kubectl that cannot run is an error, not a crash") {
  auto rc = kube::runKubectl("/nonexistent/kubectl", {"apply"}, "x");
  CHECK_FALSE(rc.ok());
}
