#include "pilot/compile/mesh_view.h"

namespace mesh::pilot {

MeshView::MeshView(ConfigSetPtr config, std::shared_ptr<const ServiceIndex> services,
                   MeshSettings settings)
    : config_(std::move(config)), services_(std::move(services)), settings_(std::move(settings)) {
  for (const auto& r : config_->resources) byKind_[r.kind].push_back(&r);
}

const std::vector<const core::config::Resource*>& MeshView::ofKind(const std::string& kind) const {
  static const std::vector<const core::config::Resource*> kNone;
  auto it = byKind_.find(kind);
  return it == byKind_.end() ? kNone : it->second;
}

}  // namespace mesh::pilot
