//===- Json.h - Reading loosely typed JSON fields --------------*- C++ -*-===//
//
// Header-only, for modules that share no other code (cost_model, tuner).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_JSON_H
#define HATC_SUPPORT_JSON_H

#include <cstdint>
#include <nlohmann/json.hpp>

namespace hatc {

/// A numeric field of a JSON object: integers as they are, other numbers
/// truncated, booleans as 0/1; anything else (missing, a string, null, not
/// an object) as 0.
inline int64_t jsonIntOr0(const nlohmann::json &object, const char *name) {
  if (!object.is_object())
    return 0;
  auto it = object.find(name);
  if (it == object.end())
    return 0;
  if (it->is_boolean())
    return it->get<bool>() ? 1 : 0;
  if (it->is_number_integer())
    return it->get<int64_t>();
  if (it->is_number())
    return int64_t(it->get<double>());
  return 0;
}

} // namespace hatc

#endif // HATC_SUPPORT_JSON_H
