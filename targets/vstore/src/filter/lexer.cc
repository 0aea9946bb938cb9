#include "filter/lexer.h"

#include <fmt/format.h>

#include "filter/syntax_error.h"

namespace vstore::filter {
namespace {

struct TokenInfo {
  TokenKind kind;
  std::string_view spelling;
  bool keyword;
};
constexpr TokenInfo kTokens[] = {
#define VSTORE_X(e, spelling, keyword) {TokenKind::e, spelling, keyword},
    VSTORE_FILTER_TOKENS(VSTORE_X)
#undef VSTORE_X
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_field_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_field_char(char c) { return is_field_start(c) || (c >= '0' && c <= '9') || c == '.'; }

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// Printable ASCII as is, anything else as \xHH, at most `limit` bytes of `s`.
std::string printable_excerpt(std::string_view s, size_t limit) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > limit) out += "...";
  return out;
}

}  // namespace

std::string_view token_spelling(TokenKind kind) { return kTokens[static_cast<size_t>(kind)].spelling; }

bool keyword_kind(std::string_view word, TokenKind* out) {
  for (const TokenInfo& info : kTokens) {
    if (!info.keyword || info.spelling.size() != word.size()) continue;
    bool same = true;
    for (size_t i = 0; i < word.size() && same; ++i) same = ascii_upper(word[i]) == info.spelling[i];
    if (same) {
      *out = info.kind;
      return true;
    }
  }
  return false;
}

Result<Token> Lexer::next() {
  while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  Token token;
  token.offset = static_cast<uint32_t>(pos_);
  if (pos_ == text_.size()) return token;
  char c = text_[pos_];
  auto single = [&](TokenKind kind, size_t length) {
    token.kind = kind;
    token.length = static_cast<uint32_t>(length);
    pos_ += length;
    return token;
  };
  switch (c) {
    case '(': return single(TokenKind::open_paren, 1);
    case ')': return single(TokenKind::close_paren, 1);
    case ',': return single(TokenKind::comma, 1);
    case '=': return single(TokenKind::equal, 1);
    case '!':
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '=') return single(TokenKind::not_equal, 2);
      return syntax_error(text_, pos_, "expected '!=' but found '!' alone");
    case '\'': return quoted(TokenKind::string, '\'');
    case '"': return quoted(TokenKind::field, '"');
    default: break;
  }
  if (!is_field_start(c)) {
    return syntax_error(text_, pos_,
                        fmt::format("unexpected character '{}': expected a field name, a quoted string, "
                                    "'(', ')', ',', '=', '!=', AND, OR, NOT or IN",
                                    printable_excerpt(text_.substr(pos_, 1), 1)));
  }
  size_t end = pos_ + 1;
  while (end < text_.size() && is_field_char(text_[end])) ++end;
  token.length = static_cast<uint32_t>(end - pos_);
  if (!keyword_kind(text_.substr(pos_, end - pos_), &token.kind)) token.kind = TokenKind::field;
  pos_ = end;
  return token;
}

Result<Token> Lexer::quoted(TokenKind kind, char quote) {
  Token token;
  token.kind = kind;
  token.offset = static_cast<uint32_t>(pos_);
  token.quoted = true;
  size_t i = pos_ + 1;
  for (;;) {
    size_t close = text_.find(quote, i);
    if (close == std::string_view::npos) {
      return syntax_error(text_, pos_,
                          fmt::format("unterminated {} (no closing {} before the end of the input)",
                                      kind == TokenKind::string ? "string" : "quoted field name",
                                      quote == '\'' ? "'" : "\""));
    }
    if (close + 1 < text_.size() && text_[close + 1] == quote) {  // a doubled quote stands for one
      i = close + 2;
      continue;
    }
    token.length = static_cast<uint32_t>(close + 1 - pos_);
    pos_ = close + 1;
    return token;
  }
}

void Lexer::append_content(const Token& token, std::string* out) const {
  std::string_view raw = text_.substr(token.offset, token.length);
  if (!token.quoted) {
    out->append(raw);
    return;
  }
  char quote = raw.front();
  raw = raw.substr(1, raw.size() - 2);
  for (;;) {
    size_t q = raw.find(quote);
    if (q == std::string_view::npos) {
      out->append(raw);
      return;
    }
    out->append(raw.substr(0, q + 1));  // keeps one of the two quotes
    raw.remove_prefix(q + 2);
  }
}

std::string Lexer::describe(const Token& token) const {
  std::string_view raw = text_.substr(token.offset, token.length);
  switch (token.kind) {
    case TokenKind::string: return fmt::format("string {}", printable_excerpt(raw, 24));
    case TokenKind::field: return fmt::format("field name {}", printable_excerpt(raw, 24));
    default: return std::string(token_spelling(token.kind));
  }
}

}  // namespace vstore::filter
