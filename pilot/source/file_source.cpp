#include "pilot/source/file_source.h"

#include <sys/stat.h>

#include <algorithm>
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
  auto loaded = loadChanged();
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

core::config::LoadResult FileSource::loadChanged() {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(options_.dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    auto ext = it->path().extension();
    if (it->is_regular_file(ec) && (ext == ".yaml" || ext == ".yml" || ext == ".json")) {
      paths.push_back(it->path());
    }
  }
  std::sort(paths.begin(), paths.end());  // the loader's order: results never depend on the fs
  std::map<std::string, CachedFile> next;
  core::config::LoadResult out;
  parsedLastTime_ = 0;
  for (const auto& path : paths) {
    CachedFile file;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      file.size = static_cast<std::uintmax_t>(st.st_size);
      file.mtime = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
      file.inode = st.st_ino;
    }
    auto cached = files_.find(path.string());
    // A replaced file (editors, kubectl, ConfigMap symlink swaps) has a new inode; one written
    // in place a new size or time.
    if (cached != files_.end() && file.mtime != 0 && cached->second.size == file.size &&
        cached->second.mtime == file.mtime && cached->second.inode == file.inode) {
      file.result = std::move(cached->second.result);
    } else {
      core::config::loadFile(path, file.result);
      ++parsedLastTime_;
    }
    const auto& r = file.result;
    out.resources.insert(out.resources.end(), r.resources.begin(), r.resources.end());
    out.errors.insert(out.errors.end(), r.errors.begin(), r.errors.end());
    out.skipped.insert(out.skipped.end(), r.skipped.begin(), r.skipped.end());
    next[path.string()] = std::move(file);
  }
  files_ = std::move(next);
  return out;
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
