// Rendering the manifest templates of manifests/ with Values into Kubernetes objects.
//
// Template syntax, kept small on purpose so that a template reads as the YAML it produces:
//   {{key}}          the value of `key` (see values.h); an unknown key is an error
//   #if key          lines up to the matching #endif are kept only when `key` is true
//   #if !key         ... only when it is false
//   #endif
// A directive is a whole line starting in column 0 ("#if" is a YAML comment, so a template is
// still readable YAML). Documents are separated by "---" lines; empty ones are dropped.
// Every rendered document is parsed as YAML and must name its kind and metadata.name.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "pilot/kube/embedded.h"
#include "pilot/kube/values.h"

namespace mesh::pilot::kube {

struct RenderedObject {
  std::string source;  // template file name
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string ns;    // metadata.namespace, empty for cluster-scoped objects
  std::string yaml;  // the document, ending in a newline, without the "---" separator
};

// Renders one template; errors name the template and the line.
core::Result<std::vector<RenderedObject>> renderTemplate(const ManifestTemplate& tmpl,
                                                         const Values& values);
// Renders all templates in order.
core::Result<std::vector<RenderedObject>> renderAll(std::span<const ManifestTemplate> templates,
                                                    const Values& values);
// The objects as one multi-document YAML stream ("---" before each document).
std::string joinDocuments(const std::vector<RenderedObject>& objects);

}  // namespace mesh::pilot::kube
