#include "mutant_finder.h"

#include <clang-c/Index.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <fmt/format.h>

namespace crashgate {
namespace {

std::string take(CXString s) {
  const char* c = clang_getCString(s);
  std::string out = c ? c : "";
  clang_disposeString(s);
  return out;
}

std::vector<CXCursor> children(CXCursor c) {
  std::vector<CXCursor> out;
  clang_visitChildren(
      c,
      [](CXCursor child, CXCursor, CXClientData data) {
        static_cast<std::vector<CXCursor>*>(data)->push_back(child);
        return CXChildVisit_Continue;
      },
      &out);
  return out;
}

// [begin, end) of a cursor's text in the main file, where the file holds it
// (a macro's argument is where it was written; a macro's body is not).
struct Span {
  std::size_t begin = 0, end = 0;
};

bool is_function(CXCursorKind k) {
  return k == CXCursor_FunctionDecl || k == CXCursor_CXXMethod || k == CXCursor_Constructor || k == CXCursor_Destructor ||
         k == CXCursor_ConversionFunction || k == CXCursor_FunctionTemplate;
}

bool is_class(CXCursorKind k) {
  return k == CXCursor_ClassDecl || k == CXCursor_StructDecl || k == CXCursor_ClassTemplate ||
         k == CXCursor_ClassTemplatePartialSpecialization || k == CXCursor_UnionDecl;
}

// "StoreImpl::get": the function's name after its enclosing classes.
std::string function_name(CXCursor c) {
  std::string name = take(clang_getCursorSpelling(c));
  for (CXCursor p = clang_getCursorSemanticParent(c); is_class(clang_getCursorKind(p)); p = clang_getCursorSemanticParent(p))
    name = take(clang_getCursorSpelling(p)) + "::" + name;
  return name;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// A function whose call, removed, is a realistic missing step: durability,
// locking or a check.
bool guarding_name(const std::string& name) {
  std::string n = lower(name);
  if (n.find("clock") != std::string::npos) return false;
  for (const char* w : {"sync", "lock", "check", "valid", "verif", "flush", "fence", "barrier"})
    if (n.find(w) != std::string::npos) return true;
  return false;
}

bool lock_type(const std::string& type) {
  for (const char* t : {"lock_guard", "unique_lock", "shared_lock", "scoped_lock"})
    if (type.find(t) != std::string::npos) return true;
  return false;
}

class Walk {
 public:
  Walk(CXFile file, const std::string& text, const FinderOptions& options) : file_(file), text_(text), options_(options) {}

  void visit(CXCursor c, CXCursorKind parent) {
    // Declarations of the headers it includes are not this file's to mutate
    // (inside a function of this file, a macro's expansion is).
    if (function_.empty() && !clang_Location_isFromMainFile(clang_getCursorLocation(c))) return;
    CXCursorKind kind = clang_getCursorKind(c);
    if (is_function(kind)) {
      if (!clang_isCursorDefinition(c)) return;
      std::string saved = function_;
      function_ = function_name(c);
      for (CXCursor k : children(c)) visit(k, kind);
      function_ = saved;
      return;
    }
    if (!function_.empty() && !mutate(c, kind, parent)) return;
    for (CXCursor k : children(c)) visit(k, kind);
  }

  std::vector<Mutant> take_mutants() && {
    std::sort(found_.begin(), found_.end(), [](const Mutant& a, const Mutant& b) {
      return a.offset != b.offset ? a.offset < b.offset : a.rule < b.rule;
    });
    std::map<std::string, int> seen;
    for (Mutant& m : found_) {
      int k = seen[m.function + '\n' + std::string(to_string(m.rule))]++;
      m.id = fmt::format("{}@{}:{}#{}", to_string(m.rule), m.file, m.function, k);
    }
    return std::move(found_);
  }

 private:
  std::optional<Span> span(CXCursor c) const {
    CXSourceRange r = clang_getCursorExtent(c);
    CXFile f1 = nullptr, f2 = nullptr;
    unsigned o1 = 0, o2 = 0;
    clang_getFileLocation(clang_getRangeStart(r), &f1, nullptr, nullptr, &o1);
    clang_getFileLocation(clang_getRangeEnd(r), &f2, nullptr, nullptr, &o2);
    if (!f1 || !f2 || !clang_File_isEqual(f1, file_) || !clang_File_isEqual(f2, file_) || o1 > o2 || o2 > text_.size())
      return std::nullopt;
    return Span{o1, o2};
  }

  std::string text(Span s) const { return text_.substr(s.begin, s.end - s.begin); }

  // Past the statement's own `;`, when one follows.
  std::size_t through_semicolon(std::size_t end) const {
    std::size_t p = end;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
    return p < text_.size() && text_[p] == ';' ? p + 1 : end;
  }

  void add(MutationRule rule, std::size_t offset, std::size_t length, std::string replacement) {
    if (!added_.insert({offset, static_cast<int>(rule)}).second) return;
    Mutant m;
    m.file = options_.display_path;
    m.function = function_;
    m.rule = rule;
    m.offset = offset;
    m.length = length;
    m.original = text_.substr(offset, length);
    m.replacement = std::move(replacement);
    m.line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < offset; ++i)
      if (text_[i] == '\n') ++m.line, line_start = i + 1;
    m.column = static_cast<unsigned>(offset - line_start + 1);
    found_.push_back(std::move(m));
  }

  // Adds the mutants of one cursor; false to leave its children alone.
  bool mutate(CXCursor c, CXCursorKind kind, CXCursorKind parent) {
    if (parent == CXCursor_CompoundStmt) macro_statement(c);
    switch (kind) {
      case CXCursor_IfStmt: return if_statement(c, parent);
      case CXCursor_BinaryOperator:
      case CXCursor_CompoundAssignOperator: binary(c); break;
      case CXCursor_UnaryOperator: unary(c); break;
      case CXCursor_IntegerLiteral: integer(c); break;
      case CXCursor_ReturnStmt: bool_return(c); break;
      case CXCursor_CallExpr:
        if (parent == CXCursor_CompoundStmt) removed_call(c);
        break;
      case CXCursor_DeclStmt:
        if (parent == CXCursor_CompoundStmt) removed_lock(c);
        break;
      default: break;
    }
    return true;
  }

  bool if_statement(CXCursor c, CXCursorKind parent) {
    auto s = span(c);
    std::vector<CXCursor> kids = children(c);
    if (kids.empty()) return true;
    auto cond = span(kids.front());
    // A regression switch is a bug on purpose: leave it and what it guards.
    if (s && text(*s).find("regression_enabled") != std::string::npos) return false;
    // A macro's own `if` (VSTORE_RETURN_IF_ERROR's) spans the invocation, not an `if` of this file.
    if (!s || !cond || kids.size() != 2 || parent != CXCursor_CompoundStmt || text_.compare(s->begin, 2, "if") != 0) return true;
    CXCursor then = kids[1];
    CXCursorKind tk = clang_getCursorKind(then);
    if (tk == CXCursor_CompoundStmt) {
      std::vector<CXCursor> body = children(then);
      if (body.size() != 1) return true;
      tk = clang_getCursorKind(body.front());
    }
    if (tk == CXCursor_ReturnStmt) {
      std::size_t end = through_semicolon(s->end);
      add(MutationRule::remove_guard, s->begin, end - s->begin, "");
    }
    return true;
  }

  void binary(CXCursor c) {
    std::vector<CXCursor> kids = children(c);
    if (kids.size() != 2) return;
    auto l = span(kids[0]), r = span(kids[1]);
    if (!l || !r || l->end > r->begin) return;
    std::size_t b = l->end, e = r->begin;
    while (b < e && std::isspace(static_cast<unsigned char>(text_[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(text_[e - 1]))) --e;
    std::string op = text_.substr(b, e - b);
    static const std::map<std::string, std::pair<MutationRule, std::string>> kSwaps = {
        {"<", {MutationRule::relational_boundary, "<="}},  {"<=", {MutationRule::relational_boundary, "<"}},
        {">", {MutationRule::relational_boundary, ">="}},  {">=", {MutationRule::relational_boundary, ">"}},
        {"==", {MutationRule::equality_flip, "!="}},        {"!=", {MutationRule::equality_flip, "=="}},
        {"+", {MutationRule::arithmetic_flip, "-"}},        {"-", {MutationRule::arithmetic_flip, "+"}},
        {"+=", {MutationRule::arithmetic_flip, "-="}},      {"-=", {MutationRule::arithmetic_flip, "+="}},
        {"&&", {MutationRule::logical_flip, "||"}},         {"||", {MutationRule::logical_flip, "&&"}},
    };
    auto it = kSwaps.find(op);
    if (it != kSwaps.end()) add(it->second.first, b, op.size(), it->second.second);
  }

  void unary(CXCursor c) {
    auto s = span(c);
    std::vector<CXCursor> kids = children(c);
    if (!s || kids.size() != 1 || s->begin >= text_.size() || text_[s->begin] != '!') return;
    auto operand = span(kids[0]);
    if (!operand || operand->begin <= s->begin) return;
    add(MutationRule::drop_not, s->begin, operand->begin - s->begin, "");
  }

  void integer(CXCursor c) {
    auto s = span(c);
    if (!s) return;
    std::string t = text(*s);
    std::size_t digits_end = 0;
    bool hex = t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
    std::size_t start = hex ? 2 : 0;
    digits_end = start;
    while (digits_end < t.size() && (hex ? std::isxdigit(static_cast<unsigned char>(t[digits_end]))
                                         : std::isdigit(static_cast<unsigned char>(t[digits_end]))))
      ++digits_end;
    if (digits_end == start || digits_end - start > 15) return;
    for (std::size_t i = digits_end; i < t.size(); ++i)
      if (!std::strchr("uUlL", t[i])) return;  // a separator, a user-defined literal, a macro's text
    if (!hex && t.size() > 1 && t[0] == '0') return;  // octal
    unsigned long long v = std::stoull(t.substr(start, digits_end - start), nullptr, hex ? 16 : 10);
    std::string next = hex ? fmt::format("0x{:x}", v + 1) : fmt::format("{}", v + 1);
    add(MutationRule::constant_change, s->begin, digits_end, next);
  }

  void bool_return(CXCursor c) {
    std::vector<CXCursor> kids = children(c);
    if (kids.size() != 1 || clang_getCursorKind(kids[0]) != CXCursor_CXXBoolLiteralExpr) return;
    auto s = span(kids[0]);
    if (!s) return;
    std::string t = text(*s);
    if (t == "true") add(MutationRule::return_flip, s->begin, 4, "false");
    if (t == "false") add(MutationRule::return_flip, s->begin, 5, "true");
  }

  void removed_call(CXCursor c) {
    auto s = span(c);
    if (!s || !guarding_name(take(clang_getCursorSpelling(c)))) return;
    add(MutationRule::remove_call, s->begin, through_semicolon(s->end) - s->begin, "");
  }

  void removed_lock(CXCursor c) {
    auto s = span(c);
    if (!s) return;
    for (CXCursor var : children(c)) {
      if (clang_getCursorKind(var) != CXCursor_VarDecl) continue;
      if (!lock_type(take(clang_getTypeSpelling(clang_getCursorType(var))))) return;
      add(MutationRule::remove_call, s->begin, through_semicolon(s->end) - s->begin, "");
      return;
    }
  }

  // VSTORE_RETURN_IF_ERROR(file->sync()); — a statement that is one macro
  // invocation holding a guarding call: removed whole.
  void macro_statement(CXCursor c) {
    auto s = span(c);
    if (!s) return;
    std::string t = text(*s);
    std::size_t i = 0;
    while (i < t.size() && (std::isupper(static_cast<unsigned char>(t[i])) || std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '_')) ++i;
    if (i < 3 || i >= t.size() || t[i] != '(' || t.back() != ')') return;
    if (t.rfind("VSTORE_FAILPOINT", 0) == 0) return;  // test machinery, not the engine's logic
    for (std::size_t p = i + 1; p < t.size();) {
      if (!(std::isalpha(static_cast<unsigned char>(t[p])) || t[p] == '_')) {
        ++p;
        continue;
      }
      std::size_t q = p;
      while (q < t.size() && (std::isalnum(static_cast<unsigned char>(t[q])) || t[q] == '_')) ++q;
      if (q < t.size() && t[q] == '(' && guarding_name(t.substr(p, q - p))) {
        add(MutationRule::remove_call, s->begin, through_semicolon(s->end) - s->begin, "");
        return;
      }
      p = q;
    }
  }

  CXFile file_;
  const std::string& text_;
  const FinderOptions& options_;
  std::string function_;
  std::vector<Mutant> found_;
  std::set<std::pair<std::size_t, int>> added_;
};

}  // namespace

Checked<std::vector<Mutant>> find_mutants(const FinderOptions& options) {
  std::unique_ptr<void, void (*)(CXIndex)> index(clang_createIndex(0, 0), clang_disposeIndex);
  std::vector<const char*> argv;
  argv.push_back("-xc++");
  for (const auto& a : options.args) argv.push_back(a.c_str());
  CXTranslationUnit tu = nullptr;
  CXErrorCode rc = clang_parseTranslationUnit2(index.get(), options.path.c_str(), argv.data(), static_cast<int>(argv.size()),
                                               nullptr, 0, CXTranslationUnit_KeepGoing, &tu);
  if (rc != CXError_Success || tu == nullptr)
    return failure(fmt::format("{}: libclang could not parse it (error {})", options.path, static_cast<int>(rc)));
  std::unique_ptr<CXTranslationUnitImpl, void (*)(CXTranslationUnit)> owned(tu, clang_disposeTranslationUnit);
  // A file that does not compile would give mutants of what the parser guessed.
  std::string errors;
  for (unsigned i = 0, n = clang_getNumDiagnostics(tu); i < n; ++i) {
    CXDiagnostic d = clang_getDiagnostic(tu, i);
    if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error && errors.size() < 2000)
      errors += "\n  " + take(clang_formatDiagnostic(d, clang_defaultDiagnosticDisplayOptions()));
    clang_disposeDiagnostic(d);
  }
  if (!errors.empty()) return failure(fmt::format("{}: does not compile with the arguments given:{}", options.path, errors));
  CXFile file = clang_getFile(tu, options.path.c_str());
  std::size_t size = 0;
  const char* contents = clang_getFileContents(tu, file, &size);
  if (contents == nullptr) return failure(options.path + ": libclang has no contents for it");
  std::string text(contents, size);
  Walk walk(file, text, options);
  CXCursor root = clang_getTranslationUnitCursor(tu);
  for (CXCursor c : children(root)) walk.visit(c, clang_getCursorKind(root));
  return std::move(walk).take_mutants();
}

}  // namespace crashgate
