// Crash states from a recording: which operations each persistence point
// makes durable (a pass over the log that follows each file through renames
// by an id of its own), the pending ones at each crash point, the subsets the
// model allows, and a state written out as files (crash_states.h).
#include "crashgate/crash_states.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>  // RENAME_EXCHANGE
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace crashgate {
namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kSector = 512;

std::string parent_of(const std::string& path) { return fs::path(path).parent_path().string(); }

// Writes `bytes` as the file `path`, leaving a hole where a whole 4 KiB block is
// zeros: an mmap engine's file is mostly the unwritten part of its map (LMDB's
// data.mdb with MDB_WRITEMAP is the map's size), and each state writes it anew.
CheckedDone write_sparse(const std::string& path, const std::string& bytes) {
  constexpr std::size_t kBlock = 4096;
  static const std::string zeros(kBlock, '\0');
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return failure(fmt::format("{}: cannot be written: {}", path, std::strerror(errno)));
  bool ok = true;
  for (std::size_t at = 0; ok && at < bytes.size(); at += kBlock) {
    std::size_t n = std::min(kBlock, bytes.size() - at);
    if (n == kBlock && std::memcmp(bytes.data() + at, zeros.data(), kBlock) == 0) continue;
    ok = ::pwrite(fd, bytes.data() + at, n, static_cast<off_t>(at)) == static_cast<ssize_t>(n);
  }
  ok = ok && ::ftruncate(fd, static_cast<off_t>(bytes.size())) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) return failure(fmt::format("{}: cannot be written: {}", path, std::strerror(err)));
  return done();
}

// What one call does to the state, once the namespace pass has resolved it.
struct Effect {
  enum Kind { nothing, content, create_file, make_dir, rename, exchange, link, remove } kind = nothing;
  std::uint64_t id = 0;        // the file (content; create; rename's and link's source; remove's target)
  std::string path, path2;     // the names it changes
  std::uint64_t dir = 0;       // the directory whose entry changes (dirops)
  std::uint64_t dir2 = 0;      // rename's and link's second directory
  std::uint64_t id2 = 0;       // exchange: the file at path2 (it takes path)
};

bool is_content(const Effect& e) { return e.kind == Effect::content; }
bool is_dirop(const Effect& e) { return e.kind != Effect::nothing && e.kind != Effect::content; }

// The namespace as the log left it, call by call: every path's file id.
class Namespace {
 public:
  explicit Namespace(const std::set<std::string>& initial) {
    for (const auto& p : initial) ids_[p] = next_++;
  }
  std::uint64_t id_of(const std::string& path) {
    auto it = ids_.find(path);
    if (it != ids_.end()) return it->second;
    return ids_[path] = next_++;  // a file the snapshot did not hold (made outside the log): its own id
  }
  bool has(const std::string& path) const { return ids_.count(path) != 0; }
  std::uint64_t fresh(const std::string& path) { return ids_[path] = next_++; }
  void erase(const std::string& path) { ids_.erase(path); }
  void move(const std::string& from, const std::string& to) {
    auto it = ids_.find(from);
    if (it == ids_.end()) return;
    std::uint64_t id = it->second;
    ids_.erase(it);
    ids_[to] = id;
  }
  void swap(const std::string& a, const std::string& b) {
    auto ia = ids_.find(a), ib = ids_.find(b);
    if (ia == ids_.end() || ib == ids_.end()) return move(a, b);  // only one there: the call failed, or it is a rename
    std::swap(ia->second, ib->second);
  }
  void alias(const std::string& from, const std::string& to) {
    if (has(from)) ids_[to] = ids_[from];
  }

 private:
  std::map<std::string, std::uint64_t> ids_;
  std::uint64_t next_ = 1;
};

std::vector<Effect> effects_of(const std::vector<FsCall>& calls, const std::set<std::string>& initial) {
  Namespace ns(initial);
  std::vector<Effect> out(calls.size());
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const FsCall& c = calls[i];
    Effect& e = out[i];
    if (c.result < 0) continue;  // a failed call changed nothing
    if (c.kind == "open") {
      bool existed = ns.has(c.path);
      if (!existed && ((c.flags & O_CREAT) || c.call == "creat")) {
        e = {Effect::create_file, ns.fresh(c.path), c.path, "", ns.id_of(parent_of(c.path)), 0};
      } else if (existed && (c.flags & O_TRUNC) && (c.flags & O_ACCMODE) != O_RDONLY) {
        e = {Effect::content, ns.id_of(c.path), c.path, "", 0, 0};
      }
    } else if (c.kind == "write" || c.kind == "truncate" || c.kind == "allocate") {
      e = {Effect::content, ns.id_of(c.path), c.path, "", 0, 0};
    } else if (c.kind == "rename" && (c.flags & RENAME_EXCHANGE)) {
      // renameat2(RENAME_EXCHANGE): both names stay, each on the other's file.
      e = {Effect::exchange, ns.id_of(c.path), c.path, c.path2, ns.id_of(parent_of(c.path)), ns.id_of(parent_of(c.path2)),
           ns.id_of(c.path2)};
      ns.swap(c.path, c.path2);
    } else if (c.kind == "rename") {
      e = {Effect::rename, ns.id_of(c.path), c.path, c.path2, ns.id_of(parent_of(c.path)), ns.id_of(parent_of(c.path2))};
      ns.move(c.path, c.path2);
    } else if (c.kind == "link") {
      e = {Effect::link, ns.id_of(c.path), c.path, c.path2, ns.id_of(parent_of(c.path2)), 0};
      ns.alias(c.path, c.path2);
    } else if (c.kind == "unlink" || c.kind == "rmdir") {
      e = {Effect::remove, ns.id_of(c.path), c.path, "", ns.id_of(parent_of(c.path)), 0};
      ns.erase(c.path);
    } else if (c.kind == "mkdir") {
      e = {Effect::make_dir, ns.fresh(c.path), c.path, "", ns.id_of(parent_of(c.path)), 0};
    } else if (c.kind == "persist" || c.kind == "map-sync") {
      e.id = c.path.empty() ? 0 : ns.id_of(c.path);  // the file or directory synced (0: sync, syncfs)
    }
  }
  return out;
}

// For each call, the seq of the first persistence point that makes it durable
// (kNever: none). One pass: the operations not yet durable wait in lists by
// what would make them so (their file, their directory, their mapping's path),
// and a persistence point takes only its own lists.
std::vector<std::uint64_t> durable_at(const std::vector<FsCall>& calls, const std::vector<Effect>& effects, PersistenceModel model) {
  std::vector<std::uint64_t> at(calls.size(), kNever);
  std::vector<std::size_t> waiting;                             // every operation not durable on return
  std::map<std::uint64_t, std::vector<std::size_t>> by_file;    // content, by the file's id
  std::map<std::uint64_t, std::vector<std::size_t>> by_dir;     // directory operations, by each directory they change
  std::map<std::uint64_t, std::vector<std::size_t>> creates;    // file creations, by the new file's id (ext4-ordered)
  std::map<std::string, std::vector<std::size_t>> msync_pages;  // pages found at an msync, by path
  auto settle = [&](std::vector<std::size_t>& list, std::uint64_t seq) {
    for (std::size_t i : list)
      if (at[i] == kNever) at[i] = seq;
    list.clear();
  };
  auto take = [&](auto& lists, const auto& key, std::uint64_t seq) {
    if (auto it = lists.find(key); it != lists.end()) settle(it->second, seq);
  };
  for (std::size_t j = 0; j < calls.size(); ++j) {
    const FsCall& p = calls[j];
    if (p.result >= 0) {
      std::uint64_t seq = p.seq;
      bool global = p.call == "sync" || p.call == "syncfs";
      bool file_sync = p.call == "fsync" || p.call == "fdatasync";
      // msync(MS_SYNC) writes the range back and waits, as fdatasync does for it;
      // MS_ASYNC promises nothing (Linux only marks the pages dirty, as they are).
      bool map_sync = p.call == "msync" && (p.flags & MS_SYNC);
      std::uint64_t id = effects[j].id;
      if (global) settle(waiting, seq);
      if (file_sync) {
        take(by_file, id, seq);
        take(by_dir, id, seq);
      }
      // ext4 commits a new file's directory entry with the journal transaction its fsync forces.
      // msync(MS_SYNC) goes through the same fsync path (vfs_fsync_range), journal commit included.
      if (model == PersistenceModel::ext4_ordered && (file_sync || map_sync)) take(creates, id, seq);
      // A page stored through a mapping is durable at the msync that found it.
      if (map_sync) take(msync_pages, p.path, seq);
    }
    const Effect& e = effects[j];
    if (e.kind == Effect::nothing) continue;
    // A write through an O_DSYNC (or O_SYNC) fd is durable when it returns.
    if (calls[j].kind == "write" && calls[j].call != "mapped-write" && (calls[j].flags & O_DSYNC)) {
      at[j] = calls[j].seq;
      continue;
    }
    waiting.push_back(j);
    if (is_content(e)) by_file[e.id].push_back(j);
    if (is_dirop(e)) {
      by_dir[e.dir].push_back(j);
      if (e.dir2 != e.dir) by_dir[e.dir2].push_back(j);
    }
    if (e.kind == Effect::create_file) creates[e.id].push_back(j);
    if (calls[j].call == "mapped-write" && calls[j].found_at == "msync") msync_pages[calls[j].path].push_back(j);
  }
  if (model == PersistenceModel::ext4_ordered) {
    // data=ordered: a file's data written before a rename or unlink of it is on disk once that is.
    std::map<std::uint64_t, std::vector<std::size_t>> writes;  // content effects by file id, in log order
    for (std::size_t i = 0; i < calls.size(); ++i)
      if (is_content(effects[i])) writes[effects[i].id].push_back(i);
    auto order_before = [&](std::uint64_t file, std::size_t r) {
      auto it = writes.find(file);
      if (it == writes.end()) return;
      for (std::size_t i : it->second) {
        if (i >= r) break;
        at[i] = std::min(at[i], at[r]);
      }
    };
    for (std::size_t r = 0; r < calls.size(); ++r) {
      const Effect& d = effects[r];
      if ((d.kind != Effect::rename && d.kind != Effect::exchange && d.kind != Effect::remove) || at[r] == kNever) continue;
      order_before(d.id, r);
      if (d.kind == Effect::exchange) order_before(d.id2, r);
    }
  }
  return at;
}

std::set<std::string> initial_paths(const std::string& recording_dir, const std::string& dir) {
  std::set<std::string> out{dir};
  std::error_code ec;
  std::string root = recording_dir + "/initial";
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    out.insert(dir + "/" + fs::relative(it->path(), root, ec).string());
  return out;
}

Checked<std::string> recorded_dir(const std::string& recording_dir) {
  std::ifstream in(recording_dir + "/record.json");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object() || !j.contains("dir") || !j["dir"].is_string())
    return failure(fmt::format("{}/record.json: missing or without \"dir\" (is it a crashgate record directory?)", recording_dir));
  return j["dir"].get<std::string>();
}

}  // namespace

std::optional<PersistenceModel> parse_persistence_model(std::string_view name) {
  if (name == "posix") return PersistenceModel::posix;
  if (name == "ext4-ordered") return PersistenceModel::ext4_ordered;
  return std::nullopt;
}

std::string_view to_string(PersistenceModel model) { return model == PersistenceModel::posix ? "posix" : "ext4-ordered"; }

std::string CrashState::describe() const {
  std::string what = kind;
  if (kind == "prefix") what = fmt::format("keep the first {} of {} pending", kept.size(), pending.size());
  if (kind == "drop") {
    for (auto p : pending)
      if (std::find(kept.begin(), kept.end(), p) == kept.end()) what = fmt::format("drop #{}", p);
  }
  if (kind == "torn" && torn) what = fmt::format("tear #{} after {} bytes", *torn, torn_bytes);
  if (kind == "none") what = fmt::format("lose all {} pending", pending.size());
  if (kind == "all") what = fmt::format("keep all {} pending", pending.size());
  if (kind == "dir-undone") what = "undo the pending directory operations";
  return fmt::format("after #{}: {}", point, what);
}

Checked<Recording> load_recording(const std::string& recording_dir) {
  Checked<std::string> dir = recorded_dir(recording_dir);
  if (!dir) return failure(dir.error());
  Checked<std::vector<FsCall>> calls = read_fs_calls(recording_dir);
  if (!calls) return failure(calls.error());
  for (std::size_t i = 0; i < calls->size(); ++i)
    if ((*calls)[i].seq != i + 1)
      return failure(fmt::format("{}/calls.jsonl:{}: seq {} out of order (a recording numbers its calls 1, 2, ...)", recording_dir, i + 1,
                                 (*calls)[i].seq));
  return Recording{recording_dir, *dir, std::move(*calls), initial_paths(recording_dir, *dir)};
}

std::vector<CrashState> crash_states(const Recording& recording, const CrashStateOptions& options) {
  const std::vector<FsCall>& calls = recording.calls;
  std::vector<Effect> effects = effects_of(calls, recording.initial);
  std::vector<std::uint64_t> durable = durable_at(calls, effects, options.model);
  std::vector<CrashState> out;
  for (std::size_t k = 0; k < calls.size(); ++k) {
    std::uint64_t point = calls[k].seq;
    if (!options.points.empty() && std::find(options.points.begin(), options.points.end(), point) == options.points.end()) continue;
    std::vector<std::uint64_t> pending;
    for (std::size_t i = 0; i <= k; ++i)
      if (effects[i].kind != Effect::nothing && durable[i] > point) pending.push_back(calls[i].seq);
    std::set<std::vector<std::uint64_t>> seen;
    auto add = [&](std::string kind, std::vector<std::uint64_t> kept, std::optional<std::uint64_t> torn = {}, std::uint64_t bytes = 0) {
      if (!torn && !seen.insert(kept).second) return;
      out.push_back({point, std::move(kind), options.model, pending, std::move(kept), torn, bytes});
    };
    add("none", {});
    add("all", pending);
    for (std::size_t n = 1; n + 1 < pending.size(); ++n) add("prefix", std::vector<std::uint64_t>(pending.begin(), pending.begin() + n));
    for (std::size_t d = 0; d < pending.size() && pending.size() > 1; ++d) {
      std::vector<std::uint64_t> kept = pending;
      kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(d));
      add("drop", kept);
    }
    std::vector<std::uint64_t> contents;
    for (auto s : pending) {
      const FsCall& c = calls[s - 1];
      if (is_content(effects[s - 1])) contents.push_back(s);
      // Cut after the sectors of its first half: only a write of more than two sectors has one to keep.
      if (c.kind == "write" && c.length && *c.length / 2 >= kSector) add("torn", pending, s, (*c.length / 2) / kSector * kSector);
    }
    if (contents.size() != pending.size()) add("dir-undone", contents);
  }
  return out;
}

CheckedDone materialize_crash_state(const Recording& recording, const CrashState& state, const std::string& target) {
  const std::vector<FsCall>& calls = recording.calls;
  const std::string* dir = &recording.dir;
  const std::string& recording_dir = recording.path;
  const std::set<std::string>& initial = recording.initial;
  std::error_code ec;
  if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec)))
    return failure(fmt::format("{}: exists and is not an empty directory", target));
  if (state.point == 0 || state.point > calls.size()) return failure(fmt::format("crash point #{} is not in the log", state.point));
  std::vector<Effect> effects = effects_of(calls, initial);
  std::vector<std::uint64_t> durable = durable_at(calls, effects, state.model);

  // The files by id (their bytes) and the names (path -> id; directories too).
  std::map<std::uint64_t, std::string> bytes;
  std::set<std::uint64_t> dirs;
  std::map<std::string, std::uint64_t> names;
  {
    Namespace ids(initial);
    for (const auto& p : initial) {
      std::uint64_t id = ids.id_of(p);
      names[p] = id;
      std::string src = recording_dir + "/initial" + p.substr(dir->size());
      if (fs::is_directory(src, ec)) {
        dirs.insert(id);
      } else {
        std::ifstream in(src, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        bytes[id] = text.str();
      }
    }
  }
  std::ifstream data(recording_dir + "/data.bin", std::ios::binary);
  auto data_of = [&](const FsCall& c) {
    std::string out(c.length.value_or(0), '\0');
    if (!c.data_at || out.empty()) return out;
    data.clear();
    data.seekg(static_cast<std::streamoff>(*c.data_at));
    data.read(out.data(), static_cast<std::streamsize>(out.size()));
    out.resize(static_cast<std::size_t>(data.gcount()));
    return out;
  };
  for (std::size_t i = 0; i < state.point; ++i) {
    const Effect& e = effects[i];
    std::uint64_t seq = calls[i].seq;
    bool kept = std::find(state.kept.begin(), state.kept.end(), seq) != state.kept.end();
    if (e.kind == Effect::nothing || !(durable[i] <= state.point || kept)) continue;
    const FsCall& c = calls[i];
    switch (e.kind) {
      case Effect::content: {
        std::string& b = bytes[e.id];
        if (c.kind == "write") {
          std::string d = data_of(c);
          if (state.torn && *state.torn == seq) d.resize(std::min<std::size_t>(d.size(), state.torn_bytes));
          std::uint64_t off = c.offset.value_or(0);
          if (b.size() < off + d.size()) b.resize(off + d.size(), '\0');
          std::copy(d.begin(), d.end(), b.begin() + static_cast<std::ptrdiff_t>(off));
        } else if (c.kind == "truncate") {
          b.resize(c.length.value_or(0), '\0');
        } else if (c.kind == "allocate") {
          std::uint64_t end = c.offset.value_or(0) + c.length.value_or(0);
          if (!(c.flags & FALLOC_FL_KEEP_SIZE) && b.size() < end) b.resize(end, '\0');
        } else if (c.kind == "open") {
          b.clear();  // O_TRUNC
        }
        break;
      }
      case Effect::create_file:
        names[e.path] = e.id;
        bytes[e.id];
        break;
      case Effect::make_dir:
        names[e.path] = e.id;
        dirs.insert(e.id);
        break;
      case Effect::rename:
        if (names.count(e.path)) {
          names[e.path2] = names[e.path];
          names.erase(e.path);
        }
        break;
      case Effect::exchange: {
        auto from = names.find(e.path), to = names.find(e.path2);
        if (from != names.end() && to != names.end()) {
          std::swap(from->second, to->second);
        } else if (from != names.end()) {  // path2's name is not in this state: the file takes it, as a rename would
          names[e.path2] = from->second;
          names.erase(e.path);
        } else if (to != names.end()) {
          names[e.path] = to->second;
          names.erase(e.path2);
        }
        break;
      }
      case Effect::link:
        if (names.count(e.path)) names[e.path2] = names[e.path];
        break;
      case Effect::remove:
        names.erase(e.path);
        break;
      case Effect::nothing:
        break;
    }
  }
  fs::create_directories(target, ec);
  if (ec) return failure(fmt::format("{}: cannot be created: {}", target, ec.message()));
  for (const auto& [path, id] : names) {  // a map: a directory comes before what it holds
    if (path.size() <= dir->size() || path.compare(0, dir->size(), *dir) != 0) continue;
    std::string out = target + path.substr(dir->size());
    if (!fs::exists(fs::path(out).parent_path(), ec)) continue;  // its directory is not in this state
    if (dirs.count(id)) {
      fs::create_directories(out, ec);
    } else {
      if (CheckedDone written = write_sparse(out, bytes[id]); !written) return written;
    }
  }
  return done();
}

}  // namespace crashgate
