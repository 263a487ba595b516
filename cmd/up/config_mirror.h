// The configuration mesh up hands to pilot: a copy of DIR's YAML and JSON files in the state
// directory, refreshed whenever DIR changes. The copy leaves out what is not applied:
// DIR/samples/ (routing samples to try by copying them into DIR) and hidden directories, the
// way `kubectl apply -f DIR` would not see files kept elsewhere. The copies are the owner's
// alone (0600): a Secret among them holds a private key. Pilot watches the copy;
// only files whose bytes changed are rewritten (by rename), so a touch of DIR costs nothing.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>

namespace mesh::cmd::up {

struct MirrorResult {
  std::vector<std::filesystem::path> watched;  // DIR and its subdirectories that are copied
  std::vector<std::string> errors;             // files that could not be read or written
  bool changed = false;                        // something in the copy changed
  // Per file of the copy: the lines (1-based, in the copy) that `transform` inserted.
  std::map<std::filesystem::path, std::vector<int>> insertedLines;
};

// A problem's place in the copy (a config error's file and line), told as the user's file in
// DIR and the line there: the copy is what pilot and the loader read, DIR what the user edits.
// A place outside the copy is returned as it is.
std::pair<std::string, int> placeInDir(const MirrorResult& mirrored,
                                       const std::filesystem::path& dir,
                                       const std::filesystem::path& mirror,
                                       const std::string& file, int line);

// True for a directory of DIR whose files are not applied.
bool isSkippedDirectory(const std::filesystem::path& relative);

// `transform`, when given, is applied to each YAML file's text before it is compared and
// written (mesh up --netns adds Services' cluster IPs there). `stateDir`, mesh up's own
// directory (which holds the copy), is left out when a user puts it inside DIR: copying it
// would copy the copy, and its logs would count as changes to DIR.
MirrorResult syncMirror(const std::filesystem::path& dir, const std::filesystem::path& mirror,
                        const std::function<std::string(const std::string&)>& transform = {},
                        const std::filesystem::path& stateDir = {});

}  // namespace mesh::cmd::up
