// The env: opening it (damage shows here first: mdb_env_open reads both meta
// pages), closing it, and the transactions every op runs in.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include <fmt/format.h>

#include "errors.h"
#include "guards.h"
#include "session.h"

namespace crashgate::lmdb_driver {

namespace {

// How large a map may grow before a full map is an error (a runaway write, not a store).
constexpr std::size_t kLargestMapSize = std::size_t{1} << 40;

}  // namespace

Session::Session(kit::Context& context)
    : context_(context), work_dir_(context.work_dir), store_dir_(work_dir_ + "/store"), seed_(context.seed), rng_(context.seed) {}

Session::~Session() { close_env(); }

void Session::wait_until_map_is_grown() {
  while (growers_.load() > 0) std::this_thread::yield();
}

StepResult Session::ensure_open() {
  if (env_) return StepResult::ok();
  if (!created_) return StepResult::error("not-found", "there is no store: no create step made one");
  if (StepResult o = open_env(false, 0); !o.is_ok || !import_dim_) return o;
  // An env imported and not opened yet: its first record says the dimension;
  // one that disagrees with the import's `dim` leaves the env closed.
  if (StepResult o = learn_imported_dim(); !o.is_ok) {
    close_env();
    return o;
  }
  return StepResult::ok();
}

StepResult Session::open_env(bool creating, std::uint64_t mapsize) {
  // An env's directory with no data.mdb is a new env to LMDB: opening one that
  // lost its data file would quietly make an empty store, so say it is gone.
  if (!creating) {
    struct stat st {};
    if (::lstat(data_path().c_str(), &st) != 0) {
      int err = errno;
      return mdb_error(err, "open: data.mdb is not there");
    }
  }
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0) return mdb_error(rc, "mdb_env_create");
  if (creating)
    if (int rc = mdb_env_set_mapsize(env, mapsize); rc != 0) {
      mdb_env_close(env);
      return mdb_error(rc, fmt::format("mdb_env_set_mapsize({})", mapsize));
    }
  if (int rc = mdb_env_open(env, store_dir_.c_str(), env_flags_, 0644); rc != 0) {
    mdb_env_close(env);  // what mdb_env_open's documentation asks after a failure
    return mdb_error(rc, "mdb_env_open");
  }
  // The main DB with integer keys: the flag is written at create (a write
  // transaction) and asked for again at every open (a read-only one).
  TxnGuard t;
  if (int rc = mdb_txn_begin(env, nullptr, creating ? 0 : MDB_RDONLY, &t.txn); rc != 0) {
    mdb_env_close(env);
    return mdb_error(rc, "open: mdb_txn_begin");
  }
  MDB_dbi dbi = 0;
  if (int rc = mdb_dbi_open(t.txn, nullptr, MDB_INTEGERKEY | (creating ? MDB_CREATE : 0), &dbi); rc != 0) {
    t.abort();
    mdb_env_close(env);
    return mdb_error(rc, "open: mdb_dbi_open(main DB, MDB_INTEGERKEY)");
  }
  if (int rc = t.commit(); rc != 0) {
    mdb_env_close(env);
    return mdb_error(rc, "open: mdb_txn_commit");
  }
  env_ = env;
  dbi_ = dbi;
  return StepResult::ok();
}

void Session::close_env() {
  stop_workloads();  // they use the env
  if (!env_) return;
  mdb_env_close(env_);
  env_ = nullptr;
}

StepResult Session::write(std::string_view doing, const std::function<int(MDB_txn*, std::string& where)>& work) {
  for (;;) {
    std::string what;
    std::size_t full_at = 0;  // the map's size when it was full
    {
      wait_until_map_is_grown();
      std::shared_lock in_txn(map_mu_);
      TxnGuard t;
      if (int rc = mdb_txn_begin(env_, nullptr, 0, &t.txn); rc != 0) return mdb_error(rc, fmt::format("{}: mdb_txn_begin", doing));
      std::string where;
      int rc = work(t.txn, where);
      if (rc == 0) {
        rc = t.commit();
        if (rc != 0) where = "mdb_txn_commit";
      }
      if (rc == 0) return StepResult::ok();
      t.abort();
      what = where.empty() ? std::string(doing) : fmt::format("{}: {}", doing, where);
      if (rc != MDB_MAP_FULL) return mdb_error(rc, what);
      MDB_envinfo info{};
      if (int irc = mdb_env_info(env_, &info); irc != 0) return mdb_error(irc, fmt::format("{}: mdb_env_info", what));
      full_at = info.me_mapsize;
    }
    // The map is full: grow it while no transaction of this process is active
    // (this one ended; the others finish theirs and wait), then write again.
    ++growers_;
    std::unique_lock alone(map_mu_);
    --growers_;
    MDB_envinfo info{};
    if (int irc = mdb_env_info(env_, &info); irc != 0) return mdb_error(irc, fmt::format("{}: mdb_env_info", what));
    if (info.me_mapsize > full_at) continue;  // another writer grew it meanwhile
    if (info.me_mapsize >= kLargestMapSize) return mdb_error(MDB_MAP_FULL, fmt::format("{} (a map of {} bytes)", what, info.me_mapsize));
    std::size_t bigger = info.me_mapsize * 2;
    if (int grc = mdb_env_set_mapsize(env_, bigger); grc != 0)
      return mdb_error(grc, fmt::format("{}: the map is full and cannot grow to {} bytes", what, bigger));
    context_.log(fmt::format("{}: the map was full; grown to {} bytes", doing, bigger));
  }
}

StepResult Session::read_only(std::string_view doing, const std::function<StepResult(MDB_txn*)>& work) {
  wait_until_map_is_grown();
  std::shared_lock in_txn(map_mu_);
  TxnGuard t;
  if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t.txn); rc != 0) return mdb_error(rc, fmt::format("{}: mdb_txn_begin", doing));
  return work(t.txn);
}

}  // namespace crashgate::lmdb_driver
