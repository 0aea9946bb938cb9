// The change since a base commit, from git. git runs through the shell with
// every word quoted; its output is read whole, NUL-separated where it lists paths.
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <xxhash.h>

#include "crashgate/change_selection.h"
#include "crashgate/runner.h"

namespace crashgate {
namespace {

struct GitOutput {
  bool ok = false;
  std::string text;  // stdout (and stderr, which says why when it failed)
};

// `listing`: stdout is a list of paths, so stderr (a warning) must not mix into
// it; when such a command fails, it is run again to hear why.
GitOutput git(const std::string& dir, const std::vector<std::string>& args, bool listing = false) {
  std::string command = "git -C " + shell_quote(dir);
  for (const auto& a : args) command += " " + shell_quote(a);
  command += listing ? " 2>/dev/null" : " 2>&1";
  GitOutput out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[8192];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.text.append(buffer, n);
  int status = ::pclose(pipe);
  out.ok = status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return out;
}

std::string first_line(std::string text) {
  if (auto end = text.find('\n'); end != std::string::npos) text.resize(end);
  return text;
}

std::string failed(const std::vector<std::string>& args, const GitOutput& out) {
  std::string command = "git";
  for (const auto& a : args) command += " " + a;
  std::string said = first_line(out.text);
  return fmt::format("`{}` failed{}", command, said.empty() ? "" : ": " + said);
}

}  // namespace

std::string RepositoryChange::relative(const std::string& path) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path real = fs::weakly_canonical(path, ec);
  return (ec ? fs::absolute(path) : real).lexically_relative(root).string();
}

std::uint64_t RepositoryChange::sample_seed() const { return XXH3_64bits(head.data(), head.size()); }

Checked<RepositoryChange> change_since(const std::string& base, const std::string& dir) {
  RepositoryChange change;
  std::vector<std::string> args = {"rev-parse", "--show-toplevel"};
  GitOutput out = git(dir, args);
  if (!out.ok) return failure(fmt::format("{} is not in a git repository ({})", dir, failed(args, out)));
  change.root = first_line(out.text);

  args = {"rev-parse", "--verify", "--quiet", base + "^{commit}"};
  if (base.empty() || base.starts_with('-') || !git(change.root, args).ok)
    return failure(fmt::format("'{}' is not a commit in {} (a branch, tag or commit; on CI, fetch it first: "
                               "git fetch origin main)", base, change.root));
  args = {"rev-parse", "HEAD"};
  if (out = git(change.root, args); !out.ok) return failure(failed(args, out));
  change.head = first_line(out.text);
  args = {"merge-base", base, "HEAD"};
  if (out = git(change.root, args); !out.ok)
    return failure(fmt::format("{} (a shallow clone lacks the history: git fetch --unshallow)", failed(args, out)));
  change.merge_base = first_line(out.text);

  auto add_paths = [&](const std::string& text) {
    for (std::size_t at = 0; at < text.size();) {
      std::size_t end = text.find('\0', at);
      if (end == std::string::npos) end = text.size();
      if (end > at) change.files.emplace_back(text.substr(at, end - at));
      at = end + 1;
    }
  };
  for (std::vector<std::string> listing : {std::vector<std::string>{"diff", "--name-only", "--no-renames", "-z", change.merge_base, "--"},
                                          std::vector<std::string>{"ls-files", "--others", "--exclude-standard", "-z"}}) {
    if (out = git(change.root, listing, true); !out.ok) return failure(failed(listing, git(change.root, listing)));
    add_paths(out.text);
  }
  std::sort(change.files.begin(), change.files.end());
  change.files.erase(std::unique(change.files.begin(), change.files.end()), change.files.end());
  return change;
}

std::optional<std::string> file_at(const std::string& root, const std::string& commit, const std::string& path) {
  GitOutput out = git(root, {"show", commit + ":" + path}, true);
  if (!out.ok) return std::nullopt;
  return out.text;
}

bool has_commit(const std::string& root, const std::string& commit) {
  if (commit.empty() || commit.starts_with('-')) return false;
  return git(root, {"rev-parse", "--verify", "--quiet", commit + "^{commit}"}).ok;
}

Checked<std::vector<DiffHunk>> diff_hunks(const std::string& root, const std::string& from, const std::string& to,
                                          const std::string& path) {
  std::vector<std::string> args = {"diff", "-U0", "--no-renames", "--no-color", "--no-ext-diff", from};
  if (!to.empty()) args.push_back(to);
  args.insert(args.end(), {"--", path});
  GitOutput out = git(root, args, true);
  if (!out.ok) return failure(failed(args, git(root, args)));
  return parse_diff_hunks(out.text);
}

}  // namespace crashgate
