#include "field/known_issue_entry.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "crashgate/triage.h"

namespace crashgate {
namespace {

// A TOML basic string.
std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// fnmatch reads *, ? and [ as patterns; a frame such as operator[] must match itself.
std::string glob_escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[') out += std::string("[") + c + "]";
    else out += c;
  }
  return out;
}

}  // namespace

std::string known_issue_toml(const KnownIssueEntry& e) {
  std::string out = fmt::format("\n# {}\n[[issue]]\nid = {}\ntitle = {}\n", e.origin, toml_string(e.id), toml_string(e.title));
  if (!e.engine.empty()) out += fmt::format("engine = {}\n", toml_string(e.engine));
  if (!e.signature.empty()) out += fmt::format("signatures = [{}]\n", toml_string(e.signature));
  if (!e.crash_state.empty()) out += fmt::format("states = [{}]\n", toml_string(glob_escaped(e.crash_state)));
  return out;
}

CheckedDone append_known_issue(const std::string& path, const KnownIssueEntry& entry) {
  std::string text;
  if (std::ifstream in(path, std::ios::binary); in) {
    std::stringstream all;
    all << in.rdbuf();
    text = all.str();
  } else if (errno != ENOENT) {
    return failure(fmt::format("{}: cannot be read: {}", path, std::strerror(errno)));
  }
  if (!text.empty()) {
    auto before = KnownIssues::parse(text, path);
    if (!before) return failure(before.error());
    if (before->find(entry.id)) return failure(fmt::format("{}: issue id '{}' is taken; give another with --id", path, entry.id));
    if (text.back() != '\n') text += '\n';
  }
  text += known_issue_toml(entry);
  auto after = KnownIssues::parse(text, path);
  if (!after) return failure(fmt::format("the new entry would not load ({})", after.error()));
  // Written beside the file and renamed over it, so a crash midway leaves the old file whole.
  std::string temp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(temp.c_str());
      return failure(fmt::format("{}: cannot be written", temp));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(temp.c_str());
    return failure(fmt::format("{}: cannot be replaced: {}", path, why));
  }
  return done();
}

}  // namespace crashgate
