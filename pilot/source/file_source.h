// FileSource: `mesh pilot --config-dir DIR`. Loads every YAML/JSON file under DIR
// (core/config's loader), watches DIR and its subdirectories with inotify (FsWatch), and
// after a change waits for the files to go quiet (debounce, 100 ms by default) but never
// longer than maxDelay (10 s) from the first change, like istiod's PILOT_DEBOUNCE_AFTER and
// PILOT_DEBOUNCE_MAX. Each load becomes a new ConfigSet handed to the callback.
//
// Only files whose size or modification time changed are parsed again: the others' results
// are kept from the previous load, so editing one file of a large mesh costs that file.
//
// Ownership: the source owns its watches, timer and per-file cache; the Loop is borrowed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/config/resource.h"
#include "core/loop/fs_watch.h"
#include "core/loop/loop.h"
#include "core/loop/timer.h"
#include "pilot/source/config_set.h"

namespace mesh::pilot {

struct FileSourceOptions {
  std::string dir;
  std::chrono::milliseconds debounce{100};
  std::chrono::milliseconds maxDelay{10'000};
};

class FileSource {
 public:
  // `changedAt` is the loop time (ms) of the first file event behind this load (the time of
  // the initial load for the first one): convergence is measured from it.
  using Callback = std::function<void(ConfigSetPtr set, std::uint64_t changedAt)>;

  FileSource(core::Loop& loop, FileSourceOptions options, Callback callback);
  ~FileSource();
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  // Loads once (calling the callback) and starts watching. A missing directory is an error.
  core::Status start();
  // Loads now, as if the debounce had expired.
  void reload();

  const ConfigSetPtr& current() const { return current_; }
  std::uint64_t loads() const { return generation_; }
  std::size_t watchedDirectories() const { return watches_.size(); }

 private:
  void onChange();
  void syncWatches();
  core::config::LoadResult loadChanged();

  struct CachedFile {
    std::uintmax_t size = 0;
    std::int64_t mtime = 0;  // nanoseconds
    std::uint64_t inode = 0;
    core::config::LoadResult result;
  };

  core::Loop& loop_;
  FileSourceOptions options_;
  Callback callback_;
  ConfigSetPtr current_;
  std::uint64_t generation_ = 0;
  std::uint64_t firstEventAt_ = 0;  // 0: no change pending
  core::Timer quiet_;
  std::map<std::string, std::unique_ptr<core::FsWatch>> watches_;
  std::map<std::string, CachedFile> files_;
  std::uint64_t parsedLastTime_ = 0;

 public:
  // Files parsed by the latest load (the others came from the cache).
  std::uint64_t filesParsedLastLoad() const { return parsedLastTime_; }
};

}  // namespace mesh::pilot
