// A crash turned into a known-issues entry (`crashgate triage --promote`):
// appended to the file as TOML, the whole file checked before it is replaced.
#pragma once

#include <string>

#include "crashgate/checked.h"

namespace crashgate {

struct KnownIssueEntry {
  std::string id;
  std::string title;
  std::string signature;
  std::string crash_state;  // matched as a glob: its glob characters are escaped
  std::string engine;       // "" for none
  std::string origin;       // a comment: where the crash came from
};

// The entry as a [[issue]] table.
std::string known_issue_toml(const KnownIssueEntry& entry);
// Appends `entry` to `path` (created when missing). Fails, changing nothing,
// when the id is taken or the result would not load as a known-issues file.
CheckedDone append_known_issue(const std::string& path, const KnownIssueEntry& entry);

}  // namespace crashgate
