// The graph's files: creating, opening (O(1) validation), growing, committing,
// and the accounting of linking in flight.
#include "index/hnsw_graph.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "failpoint/evaluate.h"
#include "vstore/regression.h"

namespace vstore::internal {

namespace {
constexpr uint64_t kInitialNodes = 1024;
constexpr uint64_t kInitialUpperBlocks = 256;

std::string path_of(const std::string& dir, FileKind kind, uint64_t generation) { return dir + "/" + data_file_name(kind, generation); }
}  // namespace

HnswGraph::HnswGraph(const Shape& shape, const GraphParams& params)
    : shape_(shape), params_(params), distance_(shape.metric, shape.dim), level_scale_(1.0 / std::log(static_cast<double>(params.m))),
      entry_(uint64_t{kNoEntry}) {}

HnswGraph::~HnswGraph() = default;

const std::string& HnswGraph::name() const { return nodes_file_->name(); }

Result<std::unique_ptr<HnswGraph>> HnswGraph::create(Env* env, const std::string& dir, const StoreIdentity& id, const Shape& shape,
                                                     const IndexOptions& options, uint64_t commit_seq, const std::string& suffix) {
  VSTORE_RETURN_IF_ERROR(check_index_options(options));
  GraphParams params = make_graph_params(options);
  std::unique_ptr<HnswGraph> g(new HnswGraph(shape, params));
  std::vector<uint8_t> page(kDataStart, 0);
  FileHeader h = make_file_header(FileKind::graph, id, params.node_size, 0);
  GraphState st = make_graph_state(commit_seq, 0, 0, kNoEntry, 0);
  std::memcpy(page.data(), &h, sizeof h);
  std::memcpy(page.data() + kParamsOffset, &params, sizeof params);
  std::memcpy(page.data() + graph_state_offset(commit_seq), &st, sizeof st);
  VSTORE_ASSIGN_OR_RETURN(g->nodes_file_, MappedFile::create(env, path_of(dir, FileKind::graph, id.generation) + suffix, page,
                                                             kDataStart + kInitialNodes * params.node_size, true, true));
  FileHeader uh = make_file_header(FileKind::graph_upper, id, params.upper_block_size, 0);
  VSTORE_ASSIGN_OR_RETURN(g->upper_file_, MappedFile::create(env, path_of(dir, FileKind::graph_upper, id.generation) + suffix,
                                                             {reinterpret_cast<const uint8_t*>(&uh), sizeof uh},
                                                             kDataStart + kInitialUpperBlocks * params.upper_block_size, true, true));
  VSTORE_RETURN_IF_ERROR(g->nodes_file_->sync());
  VSTORE_RETURN_IF_ERROR(g->upper_file_->sync());
  return g;
}

Result<std::unique_ptr<MappedFile>> HnswGraph::open_nodes_file(Env* env, const std::string& dir, const StoreIdentity& id, bool writable) {
  return MappedFile::open(env, path_of(dir, FileKind::graph, id.generation), writable);
}

Result<HnswGraph::Peek> HnswGraph::peek(const MappedFile& nodes_file, const StoreIdentity& id) {
  MapGuard g = nodes_file.acquire();
  FileHeader h;
  VSTORE_RETURN_IF_ERROR(check_file_header(g.bytes(0, 0), g.size(), nodes_file.name(), FileKind::graph, id, &h));
  GraphParams params;
  std::memcpy(&params, g.bytes(kParamsOffset, sizeof params), sizeof params);
  VSTORE_RETURN_IF_ERROR(check_graph_params(params, nodes_file.name().c_str()));
  uint32_t mark;
  std::memcpy(&mark, g.bytes(kDirtyOffset, sizeof mark), sizeof mark);
  Peek p;
  p.options.m = params.m;
  p.options.ef_construction = params.ef_construction;
  p.dirty = mark != kGraphClean;
  return p;
}

Status HnswGraph::rename_into_place(const std::string& dir, uint64_t generation) {
  for (MappedFile* f : {upper_file_.get(), nodes_file_.get()}) {
    std::string to = path_of(dir, f == nodes_file_.get() ? FileKind::graph : FileKind::graph_upper, generation);
    VSTORE_RETURN_IF_ERROR(f->env()->rename(f->path(), to, FailSite::hnsw_rebuild_rename));
    f->renamed_to(to);
  }
  return nodes_file_->env()->sync_dir(dir, FailSite::hnsw_rebuild_rename);
}

Status HnswGraph::mark_dirty() {
  uint32_t mark = 1;
  VSTORE_RETURN_IF_ERROR(nodes_file_->write(kDirtyOffset, &mark, sizeof mark, FailSite::hnsw_dirty_pwrite));
  VSTORE_RETURN_IF_ERROR(nodes_file_->sync());
  dirty_ = true;
  return Status::Ok();
}

Status HnswGraph::mark_clean() {
  if (!dirty_) return Status::Ok();
  uint32_t mark = kGraphClean;
  VSTORE_RETURN_IF_ERROR(nodes_file_->write(kDirtyOffset, &mark, sizeof mark, FailSite::hnsw_dirty_pwrite));
  dirty_ = false;
  return Status::Ok();
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::open(Env* env, const std::string& dir, const StoreIdentity& id, const Shape& shape,
                                                   uint64_t commit_seq, uint64_t nodes, uint64_t graph_bytes, bool writable) {
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> nodes_file, open_nodes_file(env, dir, id, writable));
  return open(std::move(nodes_file), env, dir, id, shape, commit_seq, nodes, graph_bytes, writable);
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::open(std::unique_ptr<MappedFile> nodes_file, Env* env, const std::string& dir, const StoreIdentity& id,
                                                   const Shape& shape, uint64_t commit_seq, uint64_t nodes, uint64_t graph_bytes, bool writable) {
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> upper_file, MappedFile::open(env, path_of(dir, FileKind::graph_upper, id.generation), writable));
  MapGuard ng = nodes_file->acquire(), ug = upper_file->acquire();
  const std::string& name = nodes_file->name();
  FileHeader h, uh;
  VSTORE_RETURN_IF_ERROR(check_file_header(ng.bytes(0, 0), ng.size(), name, FileKind::graph, id, &h));
  VSTORE_RETURN_IF_ERROR(check_file_header(ug.bytes(0, 0), ug.size(), upper_file->name(), FileKind::graph_upper, id, &uh));
  GraphParams params;
  std::memcpy(&params, ng.bytes(kParamsOffset, sizeof params), sizeof params);
  VSTORE_RETURN_IF_ERROR(check_graph_params(params, name.c_str()));
  if (h.record_size != params.node_size)
    return Status::Corrupt(fmt::format("{}: offset {}: node size {}, the index parameters need {}", name, offsetof(FileHeader, record_size), h.record_size, params.node_size));
  if (uh.record_size != params.upper_block_size)
    return Status::Corrupt(fmt::format("{}: offset {}: block size {}, the index parameters need {}", upper_file->name(), offsetof(FileHeader, record_size),
                                       uh.record_size, params.upper_block_size));
  uint64_t need;
  if (nodes > kMaxGraphNodes || !checked_mul_add(nodes, params.node_size, kDataStart, &need) || graph_bytes != need)
    return Status::Corrupt(fmt::format("MANIFEST: graph_bytes is {}, but {} nodes of {} bytes after the header page need {}", graph_bytes, nodes, params.node_size,
                                       nodes > kMaxGraphNodes ? 0 : kDataStart + nodes * params.node_size));
  if (ng.size() < need)
    return Status::Corrupt(fmt::format("{}: the file is {} bytes, but MANIFEST commits {} nodes, which need {} bytes (was it truncated?)", name, ng.size(), nodes, need));

  uint64_t state_at = graph_state_offset(commit_seq);
  GraphState st;
  std::memcpy(&st, ng.bytes(state_at, sizeof st), sizeof st);
  auto bad_state = [&](const char* field, size_t off, const std::string& what) {
    return Status::Corrupt(fmt::format("{}: offset {}: graph state {} {}", name, state_at + off, field, what));
  };
  if (!graph_state_checksum_ok(st)) return bad_state("checksum", offsetof(GraphState, checksum), "does not match its bytes");
  if (st.commit_seq != commit_seq) return bad_state("commit_seq", 0, fmt::format("is {}, MANIFEST commits {}", st.commit_seq, commit_seq));
  if (st.node_count != nodes) return bad_state("node_count", offsetof(GraphState, node_count), fmt::format("is {}, MANIFEST commits {} slots", st.node_count, nodes));
  uint64_t upper_need;
  if (st.upper_blocks > nodes * kMaxLevel || !checked_mul_add(st.upper_blocks, params.upper_block_size, kDataStart, &upper_need))
    return bad_state("upper_blocks", offsetof(GraphState, upper_blocks), fmt::format("is {}, more than {} nodes can own", st.upper_blocks, nodes));
  if (ug.size() < upper_need)
    return Status::Corrupt(fmt::format("{}: the file is {} bytes, but the graph commits {} blocks, which need {} bytes (was it truncated?)",
                                       upper_file->name(), ug.size(), st.upper_blocks, upper_need));
  // No entry with nodes is a graph none of whose nodes could be linked (empty slots only).
  if (st.entry != kNoEntry && st.entry >= nodes)
    return bad_state("entry", offsetof(GraphState, entry), fmt::format("is {}, expected none or a node below {}", st.entry, nodes));
  if (st.entry == kNoEntry && st.max_level != 0)
    return bad_state("max_level", offsetof(GraphState, max_level), fmt::format("is {} with no entry point, expected 0", st.max_level));
  if (st.entry != kNoEntry) {
    NodeHead head;
    std::memcpy(&head, ng.bytes(kDataStart + uint64_t{st.entry} * params.node_size, sizeof head), sizeof head);
    if (st.max_level > kMaxLevel || head.level != st.max_level)
      return bad_state("max_level", offsetof(GraphState, max_level), fmt::format("is {}, the entry node {} has level {} (at most {})", st.max_level, st.entry, head.level, kMaxLevel));
    if (head.upper_first > st.upper_blocks || head.level > st.upper_blocks - head.upper_first)
      return Status::Corrupt(fmt::format("{}: offset {}: entry node {} owns upper blocks from {} for {} levels, beyond the {} committed",
                                         name, kDataStart + uint64_t{st.entry} * params.node_size + 4, st.entry, head.upper_first, head.level, st.upper_blocks));
  }

  std::unique_ptr<HnswGraph> g(new HnswGraph(shape, params));
  g->nodes_file_ = std::move(nodes_file);
  g->upper_file_ = std::move(upper_file);
  g->entry_.store(st.entry == kNoEntry ? uint64_t{kNoEntry} : (uint64_t{st.max_level} << 32 | st.entry), std::memory_order_release);
  g->published_.store(nodes, std::memory_order_release);
  g->upper_published_.store(st.upper_blocks, std::memory_order_release);
  g->upper_used_ = st.upper_blocks;
  g->rng_.seed(100 + nodes);
  return g;
}

Status HnswGraph::grow_files(uint64_t nodes, uint64_t upper_blocks) {
  uint64_t node_end, upper_end;
  if (nodes > kMaxGraphNodes || !checked_mul_add(nodes, params_.node_size, kDataStart, &node_end) ||
      !checked_mul_add(upper_blocks, params_.upper_block_size, kDataStart, &upper_end))
    return Status::Exhausted(fmt::format("{}: the index holds at most {} nodes", name(), kMaxGraphNodes));
  VSTORE_RETURN_IF_ERROR(nodes_file_->grow_allocated(node_end, FailSite::hnsw_grow_fallocate));
  return upper_file_->grow_allocated(upper_end, FailSite::hnsw_grow_fallocate);
}

Status HnswGraph::allocate(uint64_t first, uint64_t n, const std::function<const float*(uint64_t)>& vector_of) {
  if (!dirty_) VSTORE_RETURN_IF_ERROR(mark_dirty());  // before any committed link can change
  std::vector<uint32_t> levels(n);
  uint64_t upper = upper_used_;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (uint64_t i = 0; i < n; ++i) {
    double r = unit(rng_);
    double level = -std::log(r > 0 ? r : 1e-300) * level_scale_;
    levels[i] = level >= kMaxLevel ? kMaxLevel : static_cast<uint32_t>(level);
    upper += levels[i];
  }
  VSTORE_RETURN_IF_ERROR(grow_files(first + n, upper));
  // Nothing here is visible to readers (beyond their counts) until publish().
  uint8_t* nodes = nodes_file_->writable_data();
  uint8_t* blocks = upper_file_->writable_data();
  for (uint64_t i = 0; i < n; ++i) {
    NodeHead head{levels[i], static_cast<uint32_t>(upper_used_), distance_.needs_norms() ? distance_.inverse_norm(vector_of(i)) : 0.0f, 0};
    uint8_t* at = nodes + kDataStart + (first + i) * params_.node_size;
    std::memcpy(at, &head, sizeof head);
    for (uint32_t l = 0; l < levels[i]; ++l)
      std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(blocks + kDataStart + (upper_used_ + l) * params_.upper_block_size)).store(0, std::memory_order_relaxed);
    upper_used_ += levels[i];
  }
  return failpoint_status(FailSite::hnsw_allocate_after_nodes);
}

void HnswGraph::publish(uint64_t nodes) {
  upper_published_.store(upper_used_, std::memory_order_release);
  published_.store(nodes, std::memory_order_release);
}

Status HnswGraph::commit(uint64_t commit_seq, uint64_t nodes) {
  uint64_t e = entry_.load(std::memory_order_acquire);
  uint32_t entry = static_cast<uint32_t>(e);
  GraphState st = make_graph_state(commit_seq, nodes, upper_published_.load(std::memory_order_acquire), entry >= nodes ? kNoEntry : entry,
                                   entry >= nodes ? 0 : static_cast<uint32_t>(e >> 32));
  VSTORE_RETURN_IF_ERROR(nodes_file_->write(graph_state_offset(commit_seq), &st, sizeof st, FailSite::hnsw_commit_pwrite));
  VSTORE_RETURN_IF_ERROR(upper_file_->sync());
  return nodes_file_->sync();
}

GraphSnapshot HnswGraph::snapshot(uint64_t visible, MapGuard vectors) const {
  GraphSnapshot s;
  s.upper_count = upper_published_.load(std::memory_order_acquire);
  s.vectors_guard = std::move(vectors);
  s.nodes_guard = nodes_file_->acquire();
  s.upper_guard = upper_file_->acquire();
  s.vectors = s.vectors_guard.base();
  s.nodes = s.nodes_guard.base();
  s.upper = s.upper_guard.base();
  s.slot_size = shape_.slot_size;
  s.trust_ids = regression_enabled(Regression::unchecked_neighbor_id);
  s.check_ids_against_now = regression_enabled(Regression::toctou_neighbor);
  s.unlocked_links = regression_enabled(Regression::unlocked_links);
  // Never read beyond what every mapping covers, whatever the counts say.
  auto fits = [](const MapGuard& g, uint64_t record) { return g.size() < kDataStart ? 0 : (g.size() - kDataStart) / record; };
  s.count = std::min({visible, fits(s.vectors_guard, shape_.slot_size), fits(s.nodes_guard, params_.node_size), kMaxGraphNodes});
  s.upper_count = std::min(s.upper_count, fits(s.upper_guard, params_.upper_block_size));
  return s;
}

void HnswGraph::linking_started(uint64_t n) {
  std::lock_guard lock(linking_mu_);
  linking_ += n;
}

void HnswGraph::linking_done(uint64_t n) {
  std::lock_guard lock(linking_mu_);
  linking_ -= n;
  if (linking_ == 0) linking_cv_.notify_all();
}

void HnswGraph::wait_until_linked() {
  std::unique_lock lock(linking_mu_);
  linking_cv_.wait(lock, [&] { return linking_ == 0; });
}

}  // namespace vstore::internal
