// second-process: another process on the same env. The driver re-executes
// itself (/proc/self/exe --second-process ACTION ...), as the kit asks; the
// child reports through a progress file in the work directory, one line at a
// time with a single write(2), which outlives a SIGKILL (the page cache does).
//
//   truncate-data    args.to: an offset expression of data.mdb (numbers,
//                    header, end, field(NAME), slot(N), and `half`, the file's
//                    size / 2), evaluated here before the child starts. The
//                    child truncates data.mdb to it while THIS process has the
//                    env open, so it maps the pages that are gone; the next
//                    steps read through that mapping. Past the new end a read
//                    of the map is SIGBUS: no engine can prevent that (report
//                    002); crashgate explains it (the file, the offset).
//   rewrite-data     args.with: `zeros` or `random` (seeded) over every page
//                    after the two meta pages, in place, the file's size kept:
//                    the mapping sees the new bytes at once; or `renamed-copy`
//                    (a copy renamed over data.mdb: this process keeps mapping
//                    the old file, and reads it whole).
//   read-loop        a reader process: opens the env read-only and, for
//                    args.duration (default 500ms), scans every record in
//                    read transactions (each key 8 bytes, each value the size
//                    and file_path of a record of its id, as many as mdb_stat
//                    counts), while this process writes and grows the map.
//                    When this one has grown the file past the reader's map,
//                    mdb_txn_begin says MDB_MAP_RESIZED and the reader adopts
//                    the new size (mdb_env_set_mapsize(env, 0)), as LMDB's
//                    documentation tells its users. `join` waits for it.
//   killed-at-commit crash consistency: the child becomes the writer of a
//                    synced workload (the env's default flags: a commit is
//                    durable when mdb_txn_commit returns) of args.commits
//                    commits (default 8) of args.records records (default 25),
//                    and SIGKILLs itself at commit args.commit (1-based):
//                    args.when = "after" (default) right after that commit
//                    returned, "before" once that commit's records are put and
//                    before mdb_txn_commit is called. Deterministic: the kill
//                    is the child's own, at a point its progress file names.
//                    Then the model holds every record of the commits that
//                    returned, and the ids of the commit that did not as
//                    removed (so `verify` fails on any of them: nothing
//                    partial), and the env is opened again. args.parent_open
//                    (default false): this process keeps its env open while
//                    the writer dies (a live reader; and a writer of this
//                    process later takes over the robust writer mutex the
//                    child may have died holding, "before"); else it closes
//                    the env first and reopens it after, as a restart would.
// A bad args value (an unknown key, a value of the wrong form, commit not in
// 1..commits) is invalid-argument, before any process starts.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "errors.h"
#include "guards.h"
#include "session.h"
#include "value.h"

extern char** environ;

namespace crashgate::lmdb_driver {

using nlohmann::json;

namespace {

constexpr std::uint64_t kMetaPagesBytes = 2 * 4096;

// args values arrive as they were written, or (after {param} substitution) as strings.
Checked<std::uint64_t> arg_u64(const json& args, const char* key, std::uint64_t fallback) {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(it->get<std::int64_t>());
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return n;
  }
  return failure(fmt::format("args.{} must be a whole number, not {}", key, it->dump()));
}

Checked<std::string> arg_string(const json& args, const char* key, std::string fallback) {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned() || it->is_number_integer()) return it->dump();
  return failure(fmt::format("args.{} must be a string, not {}", key, it->dump()));
}

Checked<bool> arg_bool(const json& args, const char* key, bool fallback) {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (*it == "true") return true;
  if (*it == "false") return false;
  return failure(fmt::format("args.{} must be true or false, not {}", key, it->dump()));
}

// A number of milliseconds, or a string: "1500", "1500ms", "2s".
Checked<std::uint64_t> arg_duration_ms(const json& args, const char* key, std::uint64_t fallback) {
  auto it = args.find(key);
  if (it == args.end()) return fallback;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    std::uint64_t scale = 1;
    if (s.size() > 2 && s.ends_with("ms")) s.resize(s.size() - 2);
    else if (s.size() > 1 && s.ends_with("s")) s.resize(s.size() - 1), scale = 1000;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return n * scale;
  }
  return failure(fmt::format("args.{} must be a duration (1500, \"1500ms\", \"2s\"), not {}", key, it->dump()));
}

// Every key of args is one the action knows: a misspelt key is the scenario's mistake, not a default.
Checked<Done> only_keys(const json& args, std::initializer_list<const char*> known) {
  for (const auto& [key, value] : args.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += list.empty() ? k : fmt::format(", {}", k);
      return failure(fmt::format("args.{} is not an argument of this action (it takes: {})", key, list.empty() ? "none" : list));
    }
  }
  return done();
}

std::string arg_after(int argc, char** argv, const char* flag) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return "";
}

// One line, one write(2), O_APPEND: whole lines survive the writer's SIGKILL.
void report_line(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  std::string text = line + "\n";
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The last "error CODE MESSAGE" line of a progress file, as a step error.
std::optional<StepResult> reported_error(const std::vector<std::string>& lines) {
  std::optional<StepResult> error;
  for (const std::string& line : lines) {
    if (line.rfind("error ", 0) != 0) continue;
    std::size_t space = line.find(' ', 6);
    error = StepResult::error(line.substr(6, space == std::string::npos ? std::string::npos : space - 6),
                              space == std::string::npos ? "" : line.substr(space + 1));
  }
  return error;
}

std::string status_text(int status) {
  if (WIFSIGNALED(status)) return fmt::format("died of signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return fmt::format("exited {}", WEXITSTATUS(status));
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

StepResult Session::second_process(const Args& step) {
  records_.unsure();  // another process on the same files
  std::string action = step.string("action");
  json args = step.table("args");
  auto bad = [&](const std::string& what) {
    return StepResult::error("invalid-argument", fmt::format("second-process {}: {}", action, what));
  };
  if (!created_) return StepResult::error("not-found", "there is no store: no create step made one");
  std::string progress = fmt::format("{}/second-{}.progress", work_dir_, second_count_);
  std::string ready = fmt::format("{}/second-{}.ready", work_dir_, second_count_);
  ++second_count_;
  json child_args = json::object();
  std::uint64_t first_id = 0, commits = 0, records = 0, commit = 0;
  bool before = false, parent_open = false;

  if (action == "truncate-data") {
    if (auto k = only_keys(args, {"to"}); !k) return bad(k.error());
    Checked<std::string> to = arg_string(args, "to", "");
    if (!to) return bad(to.error());
    if (to->empty()) return bad("args.to, the new length of data.mdb, is required");
    const kit::LayoutFile* layout = layout_of("data");
    Checked<std::uint64_t> bytes = kit::evaluate_offset(*layout, data_path(), *to, extra_terms(data_path()));
    if (!bytes) return bad(fmt::format("args.to = \"{}\": {}", *to, bytes.error()));
    child_args["bytes"] = *bytes;
  } else if (action == "rewrite-data") {
    if (auto k = only_keys(args, {"with"}); !k) return bad(k.error());
    Checked<std::string> with = arg_string(args, "with", "zeros");
    if (!with) return bad(with.error());
    if (*with != "zeros" && *with != "random" && *with != "renamed-copy")
      return bad(fmt::format("args.with must be zeros, random or renamed-copy, not '{}'", *with));
    child_args["with"] = *with;
  } else if (action == "read-loop") {
    if (auto k = only_keys(args, {"duration"}); !k) return bad(k.error());
    Checked<std::uint64_t> ms = arg_duration_ms(args, "duration", 500);
    if (!ms) return bad(ms.error());
    child_args["duration_ms"] = *ms;
  } else if (action == "killed-at-commit") {
    if (auto k = only_keys(args, {"commit", "commits", "records", "when", "parent_open"}); !k) return bad(k.error());
    Checked<std::uint64_t> n = arg_u64(args, "commits", 8), r = arg_u64(args, "records", 25), c = arg_u64(args, "commit", 0);
    Checked<std::string> when = arg_string(args, "when", "after");
    Checked<bool> open = arg_bool(args, "parent_open", false);
    for (const std::string* e : {n ? nullptr : &n.error(), r ? nullptr : &r.error(), c ? nullptr : &c.error(),
                                 when ? nullptr : &when.error(), open ? nullptr : &open.error()})
      if (e) return bad(*e);
    if (*n == 0 || *n > 10'000) return bad(fmt::format("args.commits must be 1 to 10000, not {}", *n));
    if (*r == 0 || *r > 10'000) return bad(fmt::format("args.records must be 1 to 10000, not {}", *r));
    if (*c == 0 || *c > *n) return bad(fmt::format("args.commit (the commit to die at) must be 1 to args.commits = {}, not {}", *n, *c));
    if (*when != "after" && *when != "before") return bad(fmt::format("args.when must be after or before, not '{}'", *when));
    commits = *n, records = *r, commit = *c, before = *when == "before", parent_open = *open;
    first_id = allocate_ids(commits * records);
    child_args = {{"commits", commits}, {"records", records}, {"commit", commit}, {"when", *when}};
  } else {
    return bad("the actions are truncate-data, rewrite-data, read-loop and killed-at-commit");
  }

  // The env: open (and mapped) while another process damages the file or
  // reads beside this one's writes; for killed-at-commit, as args say.
  if (action != "killed-at-commit" || parent_open) {
    if (StepResult o = ensure_open(); !o.is_ok) return o;
  } else {
    close_env();
  }

  std::vector<std::string> argv_s = {"crashgate-driver-lmdb", "--second-process", action, "--store", store_dir_,
                                     "--args", child_args.dump(), "--progress", progress, "--ready", ready,
                                     "--seed", std::to_string(seed_), "--dim", std::to_string(records_.dim()),
                                     "--first-id", std::to_string(first_id)};
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t file_actions;
  posix_spawn_file_actions_init(&file_actions);
  posix_spawn_file_actions_addclose(&file_actions, 3);  // the event pipe is this process's alone
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, "/proc/self/exe", &file_actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&file_actions);
  if (rc != 0) return mdb_error(rc, fmt::format("second-process {}: posix_spawn", action));

  if (action == "read-loop") {
    second_processes_.push_back({pid, action, progress, std::nullopt});
    // Wait until it has the env open, so that the next steps run beside it (or it failed).
    for (int i = 0; i < 1000 && !std::filesystem::exists(ready); ++i) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        second_processes_.back().status = status;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    context_.log(fmt::format("second process {} reads the env (read-loop)", pid));
    return StepResult::ok();
  }

  int status = wait_for(pid);
  std::vector<std::string> lines = read_lines(progress);
  if (WIFSIGNALED(status) && !(action == "killed-at-commit" && WTERMSIG(status) == SIGKILL)) {
    StepResult o = StepResult::error("second-process", fmt::format("second process {} ({}) {}", pid, action, status_text(status)));
    o.descendant_signal = WTERMSIG(status);
    return o;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    if (std::optional<StepResult> e = reported_error(lines)) return *e;
    return StepResult::error("second-process", fmt::format("second process {} ({}) {}; see stderr", pid, action, status_text(status)));
  }

  if (action == "truncate-data" || action == "rewrite-data") {
    for (const std::string& line : lines) context_.log(fmt::format("second process {}: {}", pid, line));
    return StepResult::ok();
  }

  // killed-at-commit: it must have died of its own SIGKILL where the args said.
  if (!WIFSIGNALED(status))
    return StepResult::error("wrong-result", fmt::format("killed-at-commit: the writer {} instead of dying of SIGKILL at commit {}",
                                                         status_text(status), commit));
  std::uint64_t returned = 0;
  bool at_kill = false;
  for (const std::string& line : lines) {
    if (line.rfind("committed ", 0) == 0) returned = std::stoull(line.substr(10));
    if (line.rfind("killing ", 0) == 0) at_kill = true;
  }
  std::uint64_t expected = before ? commit - 1 : commit;
  if (!at_kill || returned != expected)
    return StepResult::error("second-process", fmt::format("killed-at-commit: the writer was killed with {} commits returned (its "
                                                           "progress: {}), not at commit {} {}",
                                                           returned, lines.empty() ? "none" : lines.back(), commit,
                                                           before ? "before" : "after"));
  // The model: every record of a commit that returned; the rest of the workload's ids must not be there.
  std::vector<std::uint64_t> durable, lost;
  for (std::uint64_t i = 0; i < commits * records; ++i) (i < returned * records ? durable : lost).push_back(first_id + i);
  records_.added(durable, seed_);
  records_.added(lost, seed_);
  records_.removed(lost);
  context_.log(fmt::format("the writer {} was SIGKILLed {} commit {} of {}: {} records of {} commits durable, ids {}..{} must "
                           "be absent",
                           pid, before ? "before" : "after", commit, commits, durable.size(), returned,
                           first_id + returned * records, first_id + commits * records - 1));
  if (StepResult o = ensure_open(); !o.is_ok) return o;
  return StepResult::ok();
}

StepResult Session::join_second_processes() {
  StepResult outcome = StepResult::ok();
  for (SecondProcess& p : second_processes_) {
    int status = p.status ? *p.status : wait_for(p.pid);
    std::vector<std::string> lines = read_lines(p.progress);
    for (const std::string& line : lines)
      if (line.rfind("error ", 0) != 0) context_.log(fmt::format("second process {} ({}): {}", p.pid, p.action, line));
    if (!outcome.is_ok || outcome.descendant_signal) continue;
    if (WIFSIGNALED(status)) {
      outcome = StepResult::error("second-process", fmt::format("second process {} ({}) {}", p.pid, p.action, status_text(status)));
      outcome.descendant_signal = WTERMSIG(status);
    } else if (WEXITSTATUS(status) != 0) {
      std::optional<StepResult> e = reported_error(lines);
      outcome = e ? StepResult::error(e->code, fmt::format("second process {} ({}): {}", p.pid, p.action, e->message))
                  : StepResult::error("second-process", fmt::format("second process {} ({}) {}; see stderr", p.pid, p.action,
                                                                    status_text(status)));
    }
  }
  second_processes_.clear();
  return outcome;
}

// ---- the second process ----------------------------------------------------

namespace {

struct Child {
  std::string store, progress, ready;
  json args;
  std::uint64_t seed = 0, first_id = 0;
  std::uint32_t dim = 0;

  int fail(const std::string& code, const std::string& message) const {
    report_line(progress, fmt::format("error {} {}", code, message));
    fmt::print(stderr, "second process: {}: {}\n", code, message);
    return 1;
  }
  int fail(int rc, const std::string& doing) const {
    StepResult r = mdb_error(rc, doing);
    return fail(r.code, r.message);
  }
  std::string data() const { return store + "/data.mdb"; }
};

int truncate_data(const Child& c) {
  std::uint64_t bytes = c.args.value("bytes", std::uint64_t{0});
  std::error_code ec;
  std::uint64_t was = std::filesystem::file_size(c.data(), ec);
  if (::truncate(c.data().c_str(), static_cast<off_t>(bytes)) != 0) return c.fail(errno, fmt::format("truncate data.mdb to {}", bytes));
  report_line(c.progress, fmt::format("truncated data.mdb from {} to {} bytes while the driver maps it", was, bytes));
  return 0;
}

int rewrite_data(const Child& c) {
  std::string with = c.args.value("with", std::string("zeros"));
  std::error_code ec;
  std::uint64_t size = std::filesystem::file_size(c.data(), ec);
  if (ec) return c.fail(ec.value(), "rewrite: data.mdb's size");
  if (with == "renamed-copy") {
    std::string copy = c.store + "/data.mdb.rewritten";
    std::filesystem::copy_file(c.data(), copy, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return c.fail(ec.value(), "rewrite: copy data.mdb");
    if (::rename(copy.c_str(), c.data().c_str()) != 0) return c.fail(errno, "rewrite: rename the copy over data.mdb");
    report_line(c.progress, fmt::format("renamed a copy of data.mdb ({} bytes) over it: the driver maps the old file", size));
    return 0;
  }
  int fd = ::open(c.data().c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return c.fail(errno, "rewrite: open data.mdb");
  std::mt19937_64 rng(c.seed ^ 0x5EC0DULL);
  std::vector<unsigned char> page(4096, 0);
  for (std::uint64_t at = kMetaPagesBytes; at < size; at += page.size()) {
    if (with == "random")
      for (unsigned char& b : page) b = static_cast<unsigned char>(rng());
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(page.size(), size - at));
    if (::pwrite(fd, page.data(), n, static_cast<off_t>(at)) != static_cast<ssize_t>(n)) {
      int err = errno;
      ::close(fd);
      return c.fail(err, fmt::format("rewrite: pwrite data.mdb at {}", at));
    }
  }
  ::close(fd);
  report_line(c.progress, fmt::format("rewrote data.mdb's pages from {} to its end ({} bytes) with {} in place while the driver maps it",
                                      kMetaPagesBytes, size, with));
  return 0;
}

int read_loop(const Child& c) {
  std::uint64_t ms = c.args.value("duration_ms", std::uint64_t{500});
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0) return c.fail(rc, "read-loop: mdb_env_create");
  if (int rc = mdb_env_open(env, c.store.c_str(), MDB_RDONLY, 0644); rc != 0) {
    mdb_env_close(env);
    report_line(c.ready, "");
    return c.fail(rc, "read-loop: mdb_env_open(MDB_RDONLY)");
  }
  report_line(c.ready, "open");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::uint64_t rounds = 0, resized = 0, most = 0;
  int result = 0;
  while (result == 0 && std::chrono::steady_clock::now() < deadline) {
    TxnGuard t;
    int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &t.txn);
    if (rc == MDB_MAP_RESIZED) {
      // The writer grew the file past this map: adopt the size it wrote (no transaction of ours is active).
      if (int grc = mdb_env_set_mapsize(env, 0); grc != 0) {
        result = c.fail(grc, "read-loop: mdb_env_set_mapsize(0) after MDB_MAP_RESIZED");
        break;
      }
      ++resized;
      continue;
    }
    if (rc != 0) {
      result = c.fail(rc, "read-loop: mdb_txn_begin");
      break;
    }
    MDB_dbi dbi = 0;
    if (rc = mdb_dbi_open(t.txn, nullptr, MDB_INTEGERKEY, &dbi); rc != 0) {
      result = c.fail(rc, "read-loop: mdb_dbi_open");
      break;
    }
    MDB_stat st{};
    if (rc = mdb_stat(t.txn, dbi, &st); rc != 0) {
      result = c.fail(rc, "read-loop: mdb_stat");
      break;
    }
    CursorGuard cur;
    if (rc = mdb_cursor_open(t.txn, dbi, &cur.cursor); rc != 0) {
      result = c.fail(rc, "read-loop: mdb_cursor_open");
      break;
    }
    std::uint64_t scanned = 0;
    MDB_val key{}, value{};
    for (rc = mdb_cursor_get(cur.cursor, &key, &value, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur.cursor, &key, &value, MDB_NEXT)) {
      std::uint64_t id = 0;
      if (key.mv_size != sizeof id) {
        result = c.fail("wrong-result", fmt::format("read-loop: a key of {} bytes, not 8", key.mv_size));
        break;
      }
      std::memcpy(&id, key.mv_data, sizeof id);
      kit::Found found = decode_value(value, c.dim);
      if (value.mv_size != value_size(id, c.dim) || found.file_path != kit::file_path_for(id)) {
        result = c.fail("wrong-result", fmt::format("read-loop: id {}'s value ({} bytes) is not a record of that id", id, value.mv_size));
        break;
      }
      ++scanned;
    }
    if (result != 0) break;
    if (rc != MDB_NOTFOUND) {
      result = c.fail(rc, fmt::format("read-loop: mdb_cursor_get after {} records", scanned));
      break;
    }
    if (scanned != st.ms_entries) {
      result = c.fail("wrong-result", fmt::format("read-loop: scanned {} records in a snapshot mdb_stat counts {} in", scanned, st.ms_entries));
      break;
    }
    most = std::max(most, scanned);
    ++rounds;
  }
  MDB_envinfo info{};
  mdb_env_info(env, &info);
  mdb_env_close(env);
  if (result == 0)
    report_line(c.progress, fmt::format("{} read rounds, up to {} records, {} times MDB_MAP_RESIZED and adopted (a map of {} bytes at "
                                        "the end)",
                                        rounds, most, resized, info.me_mapsize));
  return result;
}

int killed_at_commit(const Child& c) {
  std::uint64_t commits = c.args.value("commits", std::uint64_t{8}), records = c.args.value("records", std::uint64_t{25});
  std::uint64_t die_at = c.args.value("commit", std::uint64_t{1});
  bool before = c.args.value("when", std::string("after")) == "before";
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0) return c.fail(rc, "killed-at-commit: mdb_env_create");
  // Default flags: every commit is synced (fdatasync) before mdb_txn_commit returns.
  if (int rc = mdb_env_open(env, c.store.c_str(), 0, 0644); rc != 0) {
    mdb_env_close(env);
    return c.fail(rc, "killed-at-commit: mdb_env_open");
  }
  std::uint64_t id = c.first_id;
  for (std::uint64_t n = 1; n <= commits; ++n) {
    for (;;) {
      TxnGuard t;
      if (int rc = mdb_txn_begin(env, nullptr, 0, &t.txn); rc != 0) return c.fail(rc, fmt::format("commit {}: mdb_txn_begin", n));
      MDB_dbi dbi = 0;
      if (int rc = mdb_dbi_open(t.txn, nullptr, MDB_INTEGERKEY, &dbi); rc != 0) return c.fail(rc, fmt::format("commit {}: mdb_dbi_open", n));
      int rc = 0;
      for (std::uint64_t i = 0; i < records && rc == 0; ++i) {
        std::uint64_t key_id = id + i;
        std::string value = encode_value(kit::record_for(key_id, c.dim, c.seed));
        MDB_val k = key_of(key_id), v{value.size(), value.data()};
        rc = mdb_put(t.txn, dbi, &k, &v, 0);
      }
      if (rc == 0 && n == die_at && before) {
        report_line(c.progress, fmt::format("killing before commit {}", n));
        ::kill(::getpid(), SIGKILL);
      }
      if (rc == 0) rc = t.commit();
      if (rc == MDB_MAP_FULL) {
        t.abort();
        MDB_envinfo info{};
        mdb_env_info(env, &info);
        if (int grc = mdb_env_set_mapsize(env, info.me_mapsize * 2); grc != 0) return c.fail(grc, "killed-at-commit: grow the map");
        continue;
      }
      if (rc != 0) return c.fail(rc, fmt::format("commit {}", n));
      break;
    }
    report_line(c.progress, fmt::format("committed {}", n));
    if (n == die_at) {
      report_line(c.progress, fmt::format("killing after commit {}", n));
      ::kill(::getpid(), SIGKILL);
    }
    id += records;
  }
  mdb_env_close(env);
  return c.fail("unreached", fmt::format("the workload of {} commits ended without reaching commit {}", commits, die_at));
}

}  // namespace

int run_second_process(int argc, char** argv) {
  std::string action = argc > 2 ? argv[2] : "";
  Child c;
  c.store = arg_after(argc, argv, "--store");
  c.progress = arg_after(argc, argv, "--progress");
  c.ready = arg_after(argc, argv, "--ready");
  c.args = json::parse(arg_after(argc, argv, "--args"), nullptr, false);
  try {
    c.seed = std::stoull(arg_after(argc, argv, "--seed"));
    c.dim = static_cast<std::uint32_t>(std::stoul(arg_after(argc, argv, "--dim")));
    c.first_id = std::stoull(arg_after(argc, argv, "--first-id"));
  } catch (const std::exception&) {
    fmt::print(stderr, "second process: --seed, --dim and --first-id take numbers\n");
    return 2;
  }
  if (c.store.empty() || c.progress.empty() || !c.args.is_object()) {
    fmt::print(stderr, "second process: needs --store DIR --progress FILE --args JSON-OBJECT\n");
    return 2;
  }
  if (action == "truncate-data") return truncate_data(c);
  if (action == "rewrite-data") return rewrite_data(c);
  if (action == "read-loop") return read_loop(c);
  if (action == "killed-at-commit") return killed_at_commit(c);
  fmt::print(stderr, "second process: unknown action '{}' (truncate-data, rewrite-data, read-loop, killed-at-commit)\n", action);
  return 2;
}

}  // namespace crashgate::lmdb_driver
