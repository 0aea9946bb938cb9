// filter/lexer.h: turns filter text into tokens one at a time. Pull-based, so a
// 100 MB filter never exists as a token array.
#pragma once

#include <string>
#include <string_view>

#include "filter/token.h"
#include "vstore/status.h"

namespace vstore::filter {

class Lexer {
 public:
  // `text` must outlive the lexer and be at most UINT32_MAX bytes.
  explicit Lexer(std::string_view text) : text_(text) {}

  // The next token (kind end, repeatedly, at the end of the text), or
  // invalid-argument for an unterminated quote or a character outside the language.
  Result<Token> next();

  // Appends the token's content (a field name or a string value, quotes removed
  // and doubled quotes undone) to `out`.
  void append_content(const Token& token, std::string* out) const;
  // The token as an error message should name it: "AND", "')'", "string 'ab...'".
  std::string describe(const Token& token) const;
  std::string_view text() const { return text_; }

 private:
  Result<Token> quoted(TokenKind kind, char quote);
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace vstore::filter
