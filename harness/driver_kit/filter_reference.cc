// The kit's reference filter evaluator (filter_reference.h): one pass over the
// text with an operand stack of selections and an operator stack (shunting
// yard), so neither nesting nor length reaches the call stack.
#include "crashgate/filter_reference.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace crashgate::kit {
namespace {

// The records a sub-filter selects: `set`, or every record but `set`.
struct Selection {
  std::unordered_set<std::uint32_t> set;
  bool complement = false;
};

std::unordered_set<std::uint32_t> intersect(std::unordered_set<std::uint32_t> a, std::unordered_set<std::uint32_t> b) {
  if (a.size() > b.size()) std::swap(a, b);
  std::unordered_set<std::uint32_t> out;
  for (std::uint32_t r : a)
    if (b.count(r)) out.insert(r);
  return out;
}

std::unordered_set<std::uint32_t> unite(std::unordered_set<std::uint32_t> a, std::unordered_set<std::uint32_t> b) {
  if (a.size() < b.size()) std::swap(a, b);
  a.insert(b.begin(), b.end());
  return a;
}

std::unordered_set<std::uint32_t> minus(std::unordered_set<std::uint32_t> a, const std::unordered_set<std::uint32_t>& b) {
  if (b.size() < a.size()) {
    for (std::uint32_t r : b) a.erase(r);
    return a;
  }
  std::unordered_set<std::uint32_t> out;
  for (std::uint32_t r : a)
    if (!b.count(r)) out.insert(r);
  return out;
}

Selection both(Selection a, Selection b) {
  if (!a.complement && !b.complement) return {intersect(std::move(a.set), std::move(b.set)), false};
  if (!a.complement) return {minus(std::move(a.set), b.set), false};
  if (!b.complement) return {minus(std::move(b.set), a.set), false};
  return {unite(std::move(a.set), std::move(b.set)), true};
}

Selection either(Selection a, Selection b) {
  if (!a.complement && !b.complement) return {unite(std::move(a.set), std::move(b.set)), false};
  if (!a.complement) return {minus(std::move(b.set), a.set), true};
  if (!b.complement) return {minus(std::move(a.set), b.set), true};
  return {intersect(std::move(a.set), std::move(b.set)), true};
}

// Each field's values, and the records holding each, built when a filter first names the field.
class FieldIndex {
 public:
  explicit FieldIndex(std::span<const FilterRecord> records) : records_(records) {}
  const std::vector<std::uint32_t>& holders(const std::string& field, const std::string& value) {
    auto [it, fresh] = fields_.try_emplace(field);
    if (fresh)
      for (std::uint32_t i = 0; i < records_.size(); ++i)
        for (const auto& [name, v] : records_[i].attributes)
          if (name == field) {
            it->second[v].push_back(i);
            break;
          }
    auto found = it->second.find(value);
    return found == it->second.end() ? none_ : found->second;
  }

 private:
  std::span<const FilterRecord> records_;
  std::unordered_map<std::string, std::unordered_map<std::string, std::vector<std::uint32_t>>> fields_;
  const std::vector<std::uint32_t> none_;
};

enum class Op { open, negate, conjunction, disjunction };

int precedence(Op op) {
  switch (op) {
    case Op::negate: return 3;
    case Op::conjunction: return 2;
    case Op::disjunction: return 1;
    case Op::open: return 0;
  }
  return 0;
}

class Evaluator {
 public:
  Evaluator(std::string_view text, std::span<const FilterRecord> records) : text_(text), index_(records) {}

  Checked<Selection> run() {
    bool operand = true;  // what comes next: an operand (a comparison, NOT, '(') or an operator
    for (skip_space(); pos_ < text_.size(); skip_space()) {
      std::size_t at = pos_;
      if (operand) {
        if (keyword("NOT")) {
          ops_.push_back({Op::negate, at});
        } else if (text_[pos_] == '(') {
          ++pos_;
          ops_.push_back({Op::open, at});
        } else {
          Checked<Selection> c = comparison();
          if (!c) return failure(c.error());
          values_.push_back(std::move(*c));
          operand = false;
        }
        continue;
      }
      if (keyword("AND") || keyword("OR")) {
        Op op = (text_[at] == 'a' || text_[at] == 'A') ? Op::conjunction : Op::disjunction;
        while (!ops_.empty() && ops_.back().first != Op::open && precedence(ops_.back().first) >= precedence(op)) apply();
        ops_.push_back({op, at});
        operand = true;
      } else if (text_[pos_] == ')') {
        ++pos_;
        while (!ops_.empty() && ops_.back().first != Op::open) apply();
        if (ops_.empty()) return error(at, "')' closes no '('");
        ops_.pop_back();
      } else {
        return error(at, "expected AND, OR or ')'");
      }
    }
    if (operand) return error(pos_, values_.empty() && ops_.empty() ? "the filter is empty" : "the filter ends where a comparison was expected");
    while (!ops_.empty()) {
      if (ops_.back().first == Op::open) return error(ops_.back().second, "this '(' is never closed");
      apply();
    }
    return std::move(values_.back());
  }

 private:
  Failure error(std::size_t at, std::string_view what) const { return failure(fmt::format("filter: column {}: {}", at + 1, what)); }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n')) ++pos_;
  }

  static bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

  // The keyword at pos_, in any case, as a whole word: consumed when there.
  bool keyword(std::string_view word) {
    if (text_.size() - pos_ < word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(text_[pos_ + i])) != word[i]) return false;
    if (pos_ + word.size() < text_.size() && word_char(text_[pos_ + word.size()])) return false;
    pos_ += word.size();
    return true;
  }

  // A quoted text at pos_ ('...' or "..."), a doubled quote standing for one.
  std::optional<std::string> quoted(char quote) {
    if (pos_ >= text_.size() || text_[pos_] != quote) return std::nullopt;
    std::string out;
    for (std::size_t i = pos_ + 1; i < text_.size(); ++i) {
      if (text_[i] != quote) {
        out += text_[i];
      } else if (i + 1 < text_.size() && text_[i + 1] == quote) {
        out += quote;
        ++i;
      } else {
        pos_ = i + 1;
        return out;
      }
    }
    return std::nullopt;
  }

  Checked<Selection> comparison() {
    std::size_t at = pos_;
    std::string field;
    if (text_[pos_] == '"') {
      auto f = quoted('"');
      if (!f) return error(at, "a quoted field is never closed");
      field = std::move(*f);
    } else if (std::isalpha(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_') {
      std::size_t end = pos_;
      while (end < text_.size() && word_char(text_[end])) ++end;
      field = std::string(text_.substr(pos_, end - pos_));
      std::string upper = field;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper == "AND" || upper == "OR" || upper == "IN") return error(at, fmt::format("expected a field, not the keyword {}", upper));
      pos_ = end;
    } else {
      return error(at, "expected a field, NOT or '('");
    }
    skip_space();
    std::size_t op_at = pos_;
    bool negated = false;
    if (pos_ < text_.size() && text_[pos_] == '=') {
      ++pos_;
      return equality(field, false);
    }
    if (text_.substr(pos_, 2) == "!=") {
      pos_ += 2;
      return equality(field, true);
    }
    if (keyword("NOT")) {
      negated = true;
      skip_space();
    }
    if (!keyword("IN")) return error(op_at, negated ? "expected IN after NOT" : "expected =, !=, IN or NOT IN after the field");
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != '(') return error(pos_, "expected '(' after IN");
    ++pos_;
    Selection s{{}, negated};
    for (;;) {
      skip_space();
      std::size_t value_at = pos_;
      auto value = quoted('\'');
      if (!value) return error(value_at, "expected a 'quoted' value");
      for (std::uint32_t r : index_.holders(field, *value)) s.set.insert(r);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ')') {
        ++pos_;
        return s;
      }
      return error(pos_, "expected ',' or ')' in the IN list");
    }
  }

  Checked<Selection> equality(const std::string& field, bool negated) {
    skip_space();
    std::size_t at = pos_;
    auto value = quoted('\'');
    if (!value) return error(at, "expected a 'quoted' value");
    const auto& holders = index_.holders(field, *value);
    return Selection{{holders.begin(), holders.end()}, negated};
  }

  void apply() {
    Op op = ops_.back().first;
    ops_.pop_back();
    if (op == Op::negate) {
      values_.back().complement = !values_.back().complement;
      return;
    }
    Selection b = std::move(values_.back());
    values_.pop_back();
    Selection a = std::move(values_.back());
    values_.back() = op == Op::conjunction ? both(std::move(a), std::move(b)) : either(std::move(a), std::move(b));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  FieldIndex index_;
  std::vector<Selection> values_;
  std::vector<std::pair<Op, std::size_t>> ops_;  // and where each was written
};

}  // namespace

Checked<std::vector<std::uint64_t>> reference_select(std::string_view text, std::span<const FilterRecord> records) {
  Checked<Selection> s = Evaluator(text, records).run();
  if (!s) return failure(s.error());
  std::vector<std::uint64_t> ids;
  for (std::uint32_t i = 0; i < records.size(); ++i)
    if ((s->set.count(i) > 0) != s->complement) ids.push_back(records[i].id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace crashgate::kit
