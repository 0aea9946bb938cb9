#include "reference_filter.h"

#include <cctype>

namespace vstore_fuzz {
namespace {

struct Token {
  enum Kind { kEnd, kError, kAnd, kOr, kNot, kIn, kField, kString, kEq, kNe, kOpen, kClose, kComma } kind = kEnd;
  std::string text;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }

// Keywords match in any case: "and", "And", "AND".
bool is_keyword(std::string_view word, std::string_view upper) {
  if (word.size() != upper.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(word[i])) != upper[i]) return false;
  return true;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    Token t;
    if (pos_ == text_.size()) return t;
    char c = text_[pos_];
    switch (c) {
      case '(': ++pos_; t.kind = Token::kOpen; return t;
      case ')': ++pos_; t.kind = Token::kClose; return t;
      case ',': ++pos_; t.kind = Token::kComma; return t;
      case '=': ++pos_; t.kind = Token::kEq; return t;
      case '!':
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '=') {
          pos_ += 2;
          t.kind = Token::kNe;
          return t;
        }
        t.kind = Token::kError;
        return t;
      case '\'': return quoted('\'', Token::kString);
      case '"': return quoted('"', Token::kField);
      default: break;
    }
    if (!ident_start(c)) {
      t.kind = Token::kError;
      return t;
    }
    std::size_t start = pos_;
    while (pos_ < text_.size() && ident_char(text_[pos_])) ++pos_;
    std::string_view word = text_.substr(start, pos_ - start);
    if (is_keyword(word, "AND")) t.kind = Token::kAnd;
    else if (is_keyword(word, "OR")) t.kind = Token::kOr;
    else if (is_keyword(word, "NOT")) t.kind = Token::kNot;
    else if (is_keyword(word, "IN")) t.kind = Token::kIn;
    else {
      t.kind = Token::kField;
      t.text = word;
    }
    return t;
  }

 private:
  Token quoted(char q, Token::Kind kind) {
    Token t;
    ++pos_;
    while (true) {
      if (pos_ == text_.size()) {
        t.kind = Token::kError;  // unterminated
        return t;
      }
      char c = text_[pos_++];
      if (c == q) {
        if (pos_ < text_.size() && text_[pos_] == q) {
          t.text += q;
          ++pos_;
          continue;
        }
        t.kind = kind;
        return t;
      }
      t.text += c;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth) : lexer_(text), max_depth_(max_depth) { advance(); }

  ReferenceParse run() {
    ReferenceParse out;
    std::unique_ptr<ReferenceNode> root = parse_or(0);
    if (too_deep_) {
      out.verdict = ReferenceParse::kTooDeep;
    } else if (root && tok_.kind == Token::kEnd) {
      out.verdict = ReferenceParse::kAccepted;
      out.root = std::move(root);
    }
    out.clauses = clauses_;
    out.depth = deepest_;
    return out;
  }

 private:
  void advance() { tok_ = lexer_.next(); }
  bool enter(std::size_t depth) {
    if (depth > deepest_) deepest_ = depth;
    if (depth > max_depth_) too_deep_ = true;
    return !too_deep_;
  }

  std::unique_ptr<ReferenceNode> parse_or(std::size_t depth) {
    auto left = parse_and(depth);
    if (!left) return nullptr;
    if (tok_.kind != Token::kOr) return left;
    auto node = std::make_unique<ReferenceNode>();
    node->kind = ReferenceNode::kOr;
    node->children.push_back(std::move(left));
    while (tok_.kind == Token::kOr) {
      advance();
      auto right = parse_and(depth);
      if (!right) return nullptr;
      node->children.push_back(std::move(right));
    }
    return node;
  }

  std::unique_ptr<ReferenceNode> parse_and(std::size_t depth) {
    auto left = parse_unary(depth);
    if (!left) return nullptr;
    if (tok_.kind != Token::kAnd) return left;
    auto node = std::make_unique<ReferenceNode>();
    node->kind = ReferenceNode::kAnd;
    node->children.push_back(std::move(left));
    while (tok_.kind == Token::kAnd) {
      advance();
      auto right = parse_unary(depth);
      if (!right) return nullptr;
      node->children.push_back(std::move(right));
    }
    return node;
  }

  std::unique_ptr<ReferenceNode> parse_unary(std::size_t depth) {
    if (tok_.kind == Token::kNot) {
      if (!enter(depth + 1)) return nullptr;
      advance();
      auto inner = parse_unary(depth + 1);
      if (!inner) return nullptr;
      auto node = std::make_unique<ReferenceNode>();
      node->kind = ReferenceNode::kNot;
      node->children.push_back(std::move(inner));
      return node;
    }
    if (tok_.kind == Token::kOpen) {
      if (!enter(depth + 1)) return nullptr;
      advance();
      auto inner = parse_or(depth + 1);
      if (!inner || tok_.kind != Token::kClose) return nullptr;
      advance();
      return inner;
    }
    return parse_comparison();
  }

  std::unique_ptr<ReferenceNode> parse_comparison() {
    if (tok_.kind != Token::kField) return nullptr;
    auto node = std::make_unique<ReferenceNode>();
    node->field = tok_.text;
    advance();
    if (tok_.kind == Token::kEq || tok_.kind == Token::kNe) {
      node->kind = tok_.kind == Token::kEq ? ReferenceNode::kEq : ReferenceNode::kNe;
      advance();
      if (tok_.kind != Token::kString) return nullptr;
      node->values.push_back(tok_.text);
      ++clauses_;
      advance();
      return node;
    }
    node->kind = ReferenceNode::kIn;
    if (tok_.kind == Token::kNot) {
      node->kind = ReferenceNode::kNotIn;
      advance();
    }
    if (tok_.kind != Token::kIn) return nullptr;
    advance();
    if (tok_.kind != Token::kOpen) return nullptr;
    advance();
    while (true) {
      if (tok_.kind != Token::kString) return nullptr;
      node->values.push_back(tok_.text);
      ++clauses_;
      advance();
      if (tok_.kind == Token::kClose) break;
      if (tok_.kind != Token::kComma) return nullptr;
      advance();
    }
    advance();
    return node;
  }

  Lexer lexer_;
  Token tok_;
  std::size_t max_depth_;
  std::size_t deepest_ = 0;
  std::size_t clauses_ = 0;
  bool too_deep_ = false;
};

}  // namespace

ReferenceParse reference_parse(std::string_view text, std::size_t max_depth) { return Parser(text, max_depth).run(); }

bool reference_matches(const ReferenceNode& node, const vstore::Record& record) {
  switch (node.kind) {
    case ReferenceNode::kOr:
      for (const auto& c : node.children)
        if (reference_matches(*c, record)) return true;
      return false;
    case ReferenceNode::kAnd:
      for (const auto& c : node.children)
        if (!reference_matches(*c, record)) return false;
      return true;
    case ReferenceNode::kNot: return !reference_matches(*node.children[0], record);
    default: break;
  }
  std::optional<std::string_view> value = record.attribute(node.field);
  bool found = false;
  if (value)
    for (const std::string& v : node.values) found |= *value == v;
  bool positive = node.kind == ReferenceNode::kEq || node.kind == ReferenceNode::kIn;
  return positive ? found : !found;
}

}  // namespace vstore_fuzz
