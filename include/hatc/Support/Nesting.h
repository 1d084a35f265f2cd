//===- Nesting.h - Refusing text nested too deep to parse -------*- C++ -*-===//
//
// MLIR's parser and nlohmann::json's printer recurse once per level of
// nesting, so a text of a few kilobytes nested a few thousand levels deep
// (an attribute `[[[[...]]]]`, a type `tensor<tensor<...>>`, a JSON array)
// overflows the stack: a crash
// with no message. Inputs are measured here first and refused past
// kMaxNesting, far beyond what real IR, configs or logs nest (a few dozen).
// Header-only, for modules that share no other code (db, lowering, tools).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_NESTING_H
#define HATC_SUPPORT_NESTING_H

#include <cstddef>
#include <string>
#include <string_view>

namespace hatc {

/// The most levels of brackets an input of hatc may nest.
inline constexpr size_t kMaxNesting = 1000;

/// How deep (, [, { and < nest in `text`, outside string literals ("...",
/// with backslash escapes) and `//` comments; at most `limit + 1` (the scan
/// stops there). MLIR's `->`, `>=` and `<=` are not brackets. Closers
/// without openers are not this function's business.
inline size_t nestingDepth(std::string_view text, size_t limit = kMaxNesting) {
  size_t depth = 0, deepest = 0;
  auto next = [&](size_t i) {
    return i + 1 < text.size() ? text[i + 1] : '\0';
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '(' || c == '[' || c == '{' ||
               (c == '<' && next(i) != '=')) {
      if (++depth > deepest && (deepest = depth) > limit)
        return deepest;
    } else if ((c == ')' || c == ']' || c == '}' ||
                (c == '>' && next(i) != '=' &&
                 (i == 0 || text[i - 1] != '-'))) &&
               depth > 0) {
      --depth;
    }
  }
  return deepest;
}

/// Why `text` is refused ("nests brackets more than 1000 levels deep ..."),
/// or an empty string.
inline std::string nestingProblem(std::string_view text) {
  if (nestingDepth(text) <= kMaxNesting)
    return {};
  return "nests brackets more than " + std::to_string(kMaxNesting) +
         " levels deep; hatc reads at most " + std::to_string(kMaxNesting);
}

} // namespace hatc

#endif // HATC_SUPPORT_NESTING_H
