#include "pilot/source/file_source.h"

#include <filesystem>
#include <set>
#include <system_error>

#include "core/base/log.h"
#include "core/config/loader.h"

namespace mesh::pilot {

namespace fs = std::filesystem;

FileSource::FileSource(core::Loop& loop, FileSourceOptions options, Callback callback)
    : loop_(loop), options_(std::move(options)), callback_(std::move(callback)), quiet_(loop) {}

FileSource::~FileSource() = default;

core::Status FileSource::start() {
  std::error_code ec;
  if (!fs::is_directory(options_.dir, ec)) {
    return core::error(core::Code::not_found, "config dir " + options_.dir + " is not a directory");
  }
  syncWatches();
  if (watches_.empty()) {
    return core::error(core::Code::internal, "cannot watch " + options_.dir);
  }
  loop_.updateTime();
  firstEventAt_ = loop_.now();
  reload();
  return {};
}

void FileSource::reload() {
  quiet_.stop();
  std::uint64_t changedAt = firstEventAt_ ? firstEventAt_ : loop_.now();
  firstEventAt_ = 0;
  auto loaded = core::config::loadPath(options_.dir);
  current_ = mergeWithLastGood(current_.get(), std::move(loaded), ++generation_);
  for (const auto& e : current_->errors) LOG_WARN("pilot", "config: ", e.toString());
  for (const auto& kept : current_->keptFromBefore) {
    LOG_WARN("pilot", "config: serving the last good version of ", kept);
  }
  LOG_INFO("pilot", "config generation ", generation_, ": ", current_->resources.size(),
           " resources, ", current_->errors.size(), " errors, ", current_->skipped.size(),
           " skipped");
  syncWatches();  // directories may have come or gone
  callback_(current_, changedAt);
}

void FileSource::onChange() {
  loop_.updateTime();
  std::uint64_t now = loop_.now();
  if (firstEventAt_ == 0) firstEventAt_ = now;
  auto waited = std::chrono::milliseconds(now - firstEventAt_);
  if (waited >= options_.maxDelay) {
    reload();
    return;
  }
  auto wait = std::min(options_.debounce, options_.maxDelay - waited);
  quiet_.start(wait, [this] { reload(); });
}

// inotify is not recursive: one watch per directory, re-synced after every load.
void FileSource::syncWatches() {
  std::set<std::string> dirs{options_.dir};
  std::error_code ec;
  for (fs::recursive_directory_iterator it(options_.dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_directory(ec)) dirs.insert(it->path().string());
  }
  for (auto it = watches_.begin(); it != watches_.end();) {
    it = dirs.count(it->first) ? std::next(it) : watches_.erase(it);
  }
  for (const auto& dir : dirs) {
    if (watches_.count(dir)) continue;
    auto watch = std::make_unique<core::FsWatch>(loop_);
    auto status = watch->start(dir, [this](const core::FsChange& change) {
      if (!change.status.ok()) LOG_WARN("pilot", "config watch: ", change.status.toString());
      onChange();
    });
    if (!status) {
      LOG_WARN("pilot", "cannot watch ", dir, ": ", status.toString());
      continue;
    }
    watches_.emplace(dir, std::move(watch));
  }
}

}  // namespace mesh::pilot
