// Loads Istio and Kubernetes resources from YAML or JSON, as `kubectl apply -f` and
// `istioctl analyze` take them: a file (several YAML documents separated by `---`, one JSON
// object, or a Kubernetes List with `items`), or a directory searched recursively for
// *.yaml, *.yml and *.json, read in sorted path order so results do not depend on the file
// system.
//
// Loading never stops at the first problem: every error is collected with its file, line,
// resource and field, and a broken document (bad syntax included) does not keep the other
// documents of its file from loading. Resources with errors are left out of
// LoadResult::resources; kinds mesh does not read are noted in LoadResult::skipped.
// Exceptions from yaml-cpp and the validators stay inside; these functions do not throw.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/config/resource.h"
#include "core/config/yaml_tree.h"

namespace mesh::core::config {

// A file or a directory; a path that is neither gives one error.
LoadResult loadPath(const std::filesystem::path& path);

// The pieces loadPath is made of, appending to `out` so several sources can be combined.
void loadFile(const std::filesystem::path& path, LoadResult& out);
void loadDirectory(const std::filesystem::path& dir, LoadResult& out);
// Sees every document as parsed, before it is converted and validated, so that another model
// of the same input (`mesh analyze`'s) can be built without parsing the text a second time.
class DocumentObserver {
 public:
  virtual ~DocumentObserver() = default;
  virtual void document(const YamlDocument& doc) = 0;
  // A document that is not valid YAML (also recorded in LoadResult::errors).
  virtual void syntaxError(const YamlSyntaxError& error) = 0;
};

// `file` is the name errors and resources will carry.
void loadText(std::string_view text, const std::string& file, LoadResult& out,
              DocumentObserver* observer = nullptr);

// Whether mesh reads this kind at this apiVersion ("networking.istio.io/v1beta1",
// "VirtualService").
bool isKnownKind(std::string_view apiVersion, std::string_view kind);

// Files larger than this are refused rather than read.
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

}  // namespace mesh::core::config
