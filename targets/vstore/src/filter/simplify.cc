#include "filter/simplify.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace vstore::filter {
namespace {

// What a subtree is in normal form when it is a single comparison: the field,
// and whether it is positive (= / IN) or negative (!= / NOT IN). Computed
// children-first, so that an OR of an OR of equalities on one field is known to
// collapse before its parent decides whether it can merge.
struct Collapse {
  uint32_t field = kNoNode;
  bool positive = false;
  bool single() const { return field != kNoNode; }
};

class Simplifier {
 public:
  explicit Simplifier(Tree&& parsed) : in_(std::move(parsed)) {}

  Tree run() {
    out_.fields = std::move(in_.fields);
    out_.pool = std::move(in_.pool);
    out_.clauses = in_.clauses;
    analyse();
    field_group_.assign(out_.fields.size(), kNoNode);
    tasks_.push_back(Task{in_.root, false, kNoNode, 1});
    while (!tasks_.empty()) {
      Task task = tasks_.back();
      tasks_.pop_back();
      uint32_t node = task.node;
      bool negate = task.negate;
      while (in_.nodes[node].kind == NodeKind::negation) {  // NOT NOT x is x
        negate = !negate;
        node = in_.child(in_.nodes[node], 0);
      }
      uint32_t id;
      if (collapse_[node].single()) {
        member_links_.clear();
        member_links_.push_back({node, kNoNode});
        id = emit_match(0, collapse_[node].field, collapse_[node].positive != negate, task.depth);
      } else {
        id = emit_list(node, negate, task.depth);
      }
      if (task.slot == kNoNode) {
        out_.root = id;
      } else {
        out_.children[task.slot] = id;
      }
    }
    return std::move(out_);
  }

 private:
  struct Task {
    uint32_t node;   // in in_
    bool negate;     // emit NOT node
    uint32_t slot;   // where in out_.children the result goes; kNoNode for the root
    uint32_t depth;  // of the emitted node
  };
  struct Item {
    uint32_t node;
    bool negate;
    uint32_t group;  // merged comparisons, or kNoNode
  };
  struct Group {
    uint32_t field;
    uint32_t head;  // into member_links_
    uint32_t tail;
  };

  void analyse() {
    collapse_.resize(in_.nodes.size());
    for (size_t i = 0; i < in_.nodes.size(); ++i) {
      const Node& n = in_.nodes[i];
      Collapse& c = collapse_[i];
      switch (n.kind) {
        case NodeKind::match:
          c = Collapse{n.field, !n.negated};
          break;
        case NodeKind::negation: {
          const Collapse& child = collapse_[in_.child(n, 0)];
          if (child.single()) c = Collapse{child.field, !child.positive};
          break;
        }
        case NodeKind::all_of:
        case NodeKind::any_of: {
          // OR merges equalities, AND merges inequalities.
          bool positive = n.kind == NodeKind::any_of;
          uint32_t field = collapse_[in_.child(n, 0)].field;
          bool all = field != kNoNode;
          for (uint32_t k = 0; k < n.count && all; ++k) {
            const Collapse& child = collapse_[in_.child(n, k)];
            all = child.field == field && child.positive == positive;
          }
          if (all) c = Collapse{field, positive};
          break;
        }
      }
    }
  }

  // Emits the AND/OR at `node` (which does not collapse) with its chain
  // flattened and its mergeable comparisons merged; children become tasks.
  uint32_t emit_list(uint32_t node, bool negate, uint32_t depth) {
    const Node& list = in_.nodes[node];
    bool merge_positive = list.kind == NodeKind::any_of;
    items_.clear();
    groups_.clear();
    member_links_.clear();
    push_children_reversed(list, false);
    while (!walk_.empty()) {
      auto [child, child_negate] = walk_.back();
      walk_.pop_back();
      while (in_.nodes[child].kind == NodeKind::negation) {
        child_negate = !child_negate;
        child = in_.child(in_.nodes[child], 0);
      }
      const Node& c = in_.nodes[child];
      if (c.kind == list.kind && !child_negate) {  // (a OR b) OR c is a OR b OR c
        push_children_reversed(c, false);
        continue;
      }
      const Collapse& col = collapse_[child];
      if (col.single() && (col.positive != child_negate) == merge_positive) {
        uint32_t& group = field_group_[col.field];
        uint32_t link = static_cast<uint32_t>(member_links_.size());
        member_links_.push_back({child, kNoNode});
        if (group == kNoNode) {
          group = static_cast<uint32_t>(groups_.size());
          groups_.push_back(Group{col.field, link, link});
          items_.push_back(Item{child, child_negate, group});
        } else {
          member_links_[groups_[group].tail].second = link;
          groups_[group].tail = link;
        }
        continue;
      }
      items_.push_back(Item{child, child_negate, kNoNode});
    }
    for (const Group& g : groups_) field_group_[g.field] = kNoNode;

    uint32_t result = kNoNode;
    uint32_t list_depth = depth;
    if (negate) {
      result = push_node(Node{NodeKind::negation, false, 0, static_cast<uint32_t>(out_.children.size()), 1});
      out_.children.push_back(kNoNode);
      list_depth = depth + 1;
    }
    Node out_list{list.kind, false, 0, static_cast<uint32_t>(out_.children.size()),
                  static_cast<uint32_t>(items_.size())};
    uint32_t list_id = push_node(out_list);
    if (negate) {
      out_.children[out_.nodes[result].first] = list_id;
    } else {
      result = list_id;
    }
    out_.depth = std::max(out_.depth, list_depth);
    out_.children.resize(out_.children.size() + items_.size(), kNoNode);
    for (size_t k = 0; k < items_.size(); ++k) {
      uint32_t slot = out_list.first + static_cast<uint32_t>(k);
      const Item& item = items_[k];
      if (item.group == kNoNode) {
        tasks_.push_back(Task{item.node, item.negate, slot, list_depth + 1});
      } else {
        const Group& g = groups_[item.group];
        out_.children[slot] = emit_match(g.head, g.field, merge_positive, list_depth + 1);
      }
    }
    return result;
  }

  // Emits one comparison holding the values of every comparison in the
  // subtrees listed from member_links_[head].
  uint32_t emit_match(uint32_t head, uint32_t field, bool positive, uint32_t depth) {
    Node m{NodeKind::match, !positive, field, static_cast<uint32_t>(out_.values.size()), 0};
    for (uint32_t link = head; link != kNoNode; link = member_links_[link].second) {
      leaves_.push_back(member_links_[link].first);
      while (!leaves_.empty()) {
        const Node& n = in_.nodes[leaves_.back()];
        leaves_.pop_back();
        if (n.kind == NodeKind::match) {
          out_.values.insert(out_.values.end(), in_.values.begin() + n.first,
                             in_.values.begin() + n.first + n.count);
        } else {
          for (uint32_t k = n.count; k-- > 0;) leaves_.push_back(in_.child(n, k));
        }
      }
    }
    m.count = static_cast<uint32_t>(out_.values.size()) - m.first;
    ValueIndex index = ValueIndex::deduplicate(out_.pool, out_.values, m.first, &m.count);
    out_.values.resize(m.first + m.count);
    if (!index.empty()) {
      m.index = static_cast<uint32_t>(out_.indexes.size());
      out_.indexes.push_back(std::move(index));
    }
    out_.depth = std::max(out_.depth, depth);
    return push_node(m);
  }

  void push_children_reversed(const Node& n, bool negate) {
    for (uint32_t k = n.count; k-- > 0;) walk_.push_back({in_.child(n, k), negate});
  }

  uint32_t push_node(const Node& n) {
    out_.nodes.push_back(n);
    return static_cast<uint32_t>(out_.nodes.size() - 1);
  }

  Tree in_;
  Tree out_;
  std::vector<Collapse> collapse_;
  std::vector<Task> tasks_;
  std::vector<std::pair<uint32_t, bool>> walk_;              // flattening a chain
  std::vector<Item> items_;                                  // the chain's members
  std::vector<Group> groups_;                                // its merged comparisons
  std::vector<std::pair<uint32_t, uint32_t>> member_links_;  // (node, next link) per group
  std::vector<uint32_t> field_group_;                        // per field: group in this chain
  std::vector<uint32_t> leaves_;                             // collecting a merge's values
};

}  // namespace

Tree simplify(Tree&& parsed) { return Simplifier(std::move(parsed)).run(); }

}  // namespace vstore::filter
