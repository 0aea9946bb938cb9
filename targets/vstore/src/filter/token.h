// filter/token.h: the filter language's tokens, in one table that drives the
// lexer's keyword recognition, the printer's spelling and error messages.
#pragma once

#include <cstdint>
#include <string_view>

namespace vstore::filter {

// X(enumerator, how the token is spelled or described in messages, is a keyword)
#define VSTORE_FILTER_TOKENS(X)         \
  X(end, "end of input", false)         \
  X(field, "field name", false)         \
  X(string, "string", false)            \
  X(open_paren, "'('", false)           \
  X(close_paren, "')'", false)          \
  X(comma, "','", false)                \
  X(equal, "'='", false)                \
  X(not_equal, "'!='", false)           \
  X(kw_and, "AND", true)                \
  X(kw_or, "OR", true)                  \
  X(kw_not, "NOT", true)                \
  X(kw_in, "IN", true)

enum class TokenKind : uint8_t {
#define VSTORE_X(e, spelling, keyword) e,
  VSTORE_FILTER_TOKENS(VSTORE_X)
#undef VSTORE_X
};

// How the token kind is written ("AND", "')'") or described ("end of input").
std::string_view token_spelling(TokenKind kind);
// The keyword spelled `word` in any case, or false when it is no keyword.
bool keyword_kind(std::string_view word, TokenKind* out);

struct Token {
  TokenKind kind = TokenKind::end;
  uint32_t offset = 0;  // first byte in the text (the opening quote, if quoted)
  uint32_t length = 0;  // bytes in the text, quotes included
  bool quoted = false;  // a "..." field or a '...' string: content needs unquoting
};

}  // namespace vstore::filter
