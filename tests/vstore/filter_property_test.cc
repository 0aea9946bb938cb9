// Properties of the filter language on random expressions and records:
// evaluation agrees with a naive reference evaluator written here from the
// language's definition, the canonical text is a fixed point of print-then-parse,
// and no input whatever makes parse() crash.
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "vstore/filter.h"

namespace vstore {
namespace {

// A filter as the language defines it, deliberately not sharing any code with
// the implementation.
struct Expr {
  enum Kind { equal, not_equal, in, not_in, all_of, any_of, negation } kind = equal;
  std::string field;
  std::vector<std::string> values;
  std::vector<Expr> children;
};

// Few fields and values, so that comparisons collide and merge often; some need
// quoting (a keyword, a space, quotes, a backslash, the empty string).
const std::vector<std::string> kFields = {"a", "b", "file_path", "and", "sp ace", "q\"uote"};
const std::vector<std::string> kValues = {"", "x", "y", "it's", "C:\\d", "''", "z z", "\n"};

rc::Gen<Expr> gen_expr(int depth) {
  return rc::gen::exec([depth] {
    Expr e;
    int kinds = depth <= 0 ? 4 : 7;
    e.kind = static_cast<Expr::Kind>(*rc::gen::inRange(0, kinds));
    if (e.kind <= Expr::not_in) {
      e.field = *rc::gen::elementOf(kFields);
      int n = e.kind <= Expr::not_equal ? 1 : *rc::gen::inRange(1, 5);
      for (int i = 0; i < n; ++i) e.values.push_back(*rc::gen::elementOf(kValues));
    } else if (e.kind == Expr::negation) {
      e.children.push_back(*gen_expr(depth - 1));
    } else {
      int n = *rc::gen::inRange(2, 5);
      for (int i = 0; i < n; ++i) e.children.push_back(*gen_expr(depth - 1));
    }
    return e;
  });
}

bool reference_matches(const Expr& e, const Record& r) {
  std::optional<std::string_view> v = r.attribute(e.field);
  auto among = [&] {
    for (const std::string& x : e.values)
      if (v && *v == x) return true;
    return false;
  };
  switch (e.kind) {
    case Expr::equal:
    case Expr::in: return among();
    case Expr::not_equal:
    case Expr::not_in: return !among();
    case Expr::negation: return !reference_matches(e.children[0], r);
    case Expr::all_of:
      for (const Expr& c : e.children)
        if (!reference_matches(c, r)) return false;
      return true;
    case Expr::any_of:
      for (const Expr& c : e.children)
        if (reference_matches(c, r)) return true;
      return false;
  }
  return false;
}

std::string quoted(const std::string& s, char q) {
  std::string out(1, q);
  for (char c : s) {
    out += c;
    if (c == q) out += c;
  }
  return out + q;
}

// Random but faithful spelling: keyword case, spacing and extra parentheses vary.
std::string render(const Expr& e) {
  auto keyword = [](std::string word) {
    for (char& c : word)
      if (*rc::gen::arbitrary<bool>()) c = static_cast<char>(c - 'A' + 'a');
    return word;
  };
  auto space = [] { return *rc::gen::element<std::string>(" ", "  ", "\t", "\n ", " \r\n"); };
  auto field = [](const std::string& f) {
    bool bare = f == "a" || f == "b" || f == "file_path";
    return bare && *rc::gen::arbitrary<bool>() ? f : quoted(f, '"');
  };
  std::string out;
  switch (e.kind) {
    case Expr::equal: out = field(e.field) + space() + "=" + space() + quoted(e.values[0], '\''); break;
    case Expr::not_equal: out = field(e.field) + " != " + quoted(e.values[0], '\''); break;
    case Expr::in:
    case Expr::not_in:
      out = field(e.field) + space() + (e.kind == Expr::not_in ? keyword("NOT") + space() : "") + keyword("IN") +
            " (";
      for (size_t i = 0; i < e.values.size(); ++i) out += (i ? "," + space() : "") + quoted(e.values[i], '\'');
      out += ")";
      break;
    case Expr::negation: out = keyword("NOT") + space() + "(" + render(e.children[0]) + ")"; break;
    case Expr::all_of:
    case Expr::any_of:
      for (size_t i = 0; i < e.children.size(); ++i) {
        if (i) out += space() + keyword(e.kind == Expr::all_of ? "AND" : "OR") + space();
        out += "(" + render(e.children[i]) + ")";
      }
      break;
  }
  return *rc::gen::inRange(0, 4) == 0 ? "(" + out + ")" : out;
}

Record gen_record() {
  Record r;
  for (const std::string& f : kFields) {
    int pick = *rc::gen::inRange(0, static_cast<int>(kValues.size()) + 3);
    if (pick < static_cast<int>(kValues.size())) r.attributes.push_back({f, kValues[pick]});
    if (pick == static_cast<int>(kValues.size())) r.attributes.push_back({f, "other"});
  }
  return r;
}

RC_GTEST_PROP(FilterProperty, EvaluationEqualsTheReferenceEvaluator, ()) {
  Expr e = *gen_expr(*rc::gen::inRange(0, 5));
  std::string text = render(e);
  Result<Filter> f = Filter::parse(text);
  RC_ASSERT(f.ok());
  for (int i = 0; i < 8; ++i) {
    Record r = gen_record();
    RC_ASSERT(f->matches(r) == reference_matches(e, r));
  }
}

RC_GTEST_PROP(FilterProperty, PrintThenParseIsAFixedPointThatKeepsTheMeaning, ()) {
  Expr e = *gen_expr(*rc::gen::inRange(0, 5));
  Result<Filter> f = Filter::parse(render(e));
  RC_ASSERT(f.ok());
  std::string printed = f->to_string();
  Result<Filter> again = Filter::parse(printed);
  RC_ASSERT(again.ok());
  RC_ASSERT(again->to_string() == printed);
  for (int i = 0; i < 8; ++i) {
    Record r = gen_record();
    RC_ASSERT(again->matches(r) == reference_matches(e, r));
  }
}

// What fuzzing will hammer later: nothing aborts, every failure is a clean
// invalid-argument with a column, and whatever parses prints to a fixed point.
void check_any_text(const std::string& text) {
  Result<Filter> f = Filter::parse(text);
  if (!f.ok()) {
    RC_ASSERT(f.status().code() == Code::invalid_argument);
    RC_ASSERT(f.status().message().find("column ") != std::string::npos);
    return;
  }
  std::string printed = f->to_string();
  Result<Filter> again = Filter::parse(printed);
  RC_ASSERT(again.ok());
  RC_ASSERT(again->to_string() == printed);
}

RC_GTEST_PROP(FilterProperty, ArbitraryTextParsesOrFailsCleanly, (const std::string& text)) {
  check_any_text(text);
}

RC_GTEST_PROP(FilterProperty, DamagedFiltersParseOrFailCleanly, ()) {
  std::string text = render(*gen_expr(*rc::gen::inRange(0, 4)));
  int edits = *rc::gen::inRange(1, 4);
  for (int i = 0; i < edits && !text.empty(); ++i) {
    size_t at = *rc::gen::inRange<size_t>(0, text.size());
    switch (*rc::gen::inRange(0, 3)) {
      case 0: text.erase(at, 1); break;
      case 1: text.insert(at, 1, *rc::gen::elementOf(std::string("()',=!\" aAnN\\"))); break;
      default: text.insert(at, *rc::gen::element<std::string>(" AND ", " OR ", " NOT ", " IN ", "(", ")")); break;
    }
  }
  check_any_text(text);
}

}  // namespace
}  // namespace vstore
