// Typed step keys for drivers (driver_kit.h): cell.json's steps checked
// against the op table, then read by type.
#include <fmt/format.h>

#include <stdexcept>

#include "crashgate/driver_kit.h"
#include "crashgate/step_values.h"

namespace crashgate::kit {
namespace {

const KeySpec* key_spec(const OpSpec& op, std::string_view key) {
  if (const KeySpec* spec = op.key(key)) return spec;
  for (const auto& common : common_step_keys())
    if (common.name == key) return &common;
  return nullptr;
}

}  // namespace

Args::Args(const OpSpec& op, int index, nlohmann::json values) : op_(&op), index_(index), values_(std::move(values)) {}

bool Args::has(std::string_view key) const { return values_.contains(std::string(key)); }

const nlohmann::json* Args::typed(std::string_view key, std::initializer_list<ValueType> types) const {
  const KeySpec* spec = key_spec(*op_, key);
  if (!spec) throw std::logic_error(fmt::format("op '{}' has no key '{}' (scenario_ops.h)", op_->name, key));
  bool fits = false;
  for (auto t : types) fits = fits || spec->type == t;
  if (!fits)
    throw std::logic_error(fmt::format("{}.{} is a {}, read as another type", op_->name, key, to_string(spec->type)));
  auto it = values_.find(std::string(key));
  return it == values_.end() ? nullptr : &*it;
}

const nlohmann::json* Args::typed(std::string_view key, ValueType type) const { return typed(key, {type}); }

std::uint64_t Args::u64(std::string_view key, std::uint64_t fallback) const {
  const auto* v = typed(key, ValueType::u64);
  return v ? v->get<std::uint64_t>() : fallback;
}

std::int64_t Args::i64(std::string_view key, std::int64_t fallback) const {
  const auto* v = typed(key, ValueType::i64);
  return v ? v->get<std::int64_t>() : fallback;
}

double Args::real(std::string_view key, double fallback) const {
  const auto* v = typed(key, ValueType::real);
  return v ? v->get<double>() : fallback;
}

bool Args::boolean(std::string_view key, bool fallback) const {
  const auto* v = typed(key, ValueType::boolean);
  return v ? v->get<bool>() : fallback;
}

std::string Args::string(std::string_view key, std::string fallback) const {
  const auto* v = typed(key, {ValueType::string, ValueType::path, ValueType::enumeration, ValueType::offset, ValueType::fill});
  return v ? v->get<std::string>() : fallback;
}

std::uint64_t Args::duration_ms(std::string_view key, std::uint64_t fallback) const {
  const auto* v = typed(key, ValueType::duration);
  return v ? v->get<std::uint64_t>() : fallback;
}

std::uint64_t Args::size(std::string_view key, std::uint64_t fallback) const {
  const auto* v = typed(key, ValueType::size);
  return v ? v->get<std::uint64_t>() : fallback;
}

std::vector<std::uint64_t> Args::u64_list(std::string_view key) const {
  const auto* v = typed(key, ValueType::u64_list);
  return v ? v->get<std::vector<std::uint64_t>>() : std::vector<std::uint64_t>{};
}

nlohmann::json Args::table(std::string_view key) const {
  const auto* v = typed(key, ValueType::table);
  return v ? *v : nlohmann::json::object();
}

Checked<std::vector<Args>> read_steps(const nlohmann::json& cell) {
  if (!cell.contains("steps") || !cell["steps"].is_array()) return failure("cell.json has no \"steps\" array");
  std::vector<Args> out;
  int position = 0;
  for (const auto& step : cell["steps"]) {
    if (!step.is_object()) return failure(fmt::format("step {}: not an object", position));
    int index = step.contains("index") && step["index"].is_number_integer() ? step["index"].get<int>() : position;
    ++position;
    if (!step.contains("op") || !step["op"].is_string()) return failure(fmt::format("step {}: no \"op\"", index));
    std::string name = step["op"];
    const OpSpec* op = find_op(name);
    if (!op) return failure(fmt::format("step {}: unknown op '{}' (crashgate ops lists them)", index, name));
    nlohmann::json values = nlohmann::json::object();
    for (const auto& [key, raw] : step.items()) {
      if (key == "op" || key == "index") continue;
      const KeySpec* spec = key_spec(*op, key);
      if (!spec) return failure(fmt::format("step {} ({}): unknown key '{}' (expected: {})", index, name, key, op_key_names(*op)));
      auto typed = typed_value(*spec, raw, nullptr, ValueForm::canonical);
      if (!typed) return failure(fmt::format("step {} ({}): {}", index, name, typed.error()));
      values[key] = std::move(*typed);
    }
    for (const auto& key : op->keys)
      if (key.required && !values.contains(std::string(key.name)))
        return failure(fmt::format("step {} ({}): missing required key '{}'", index, name, key.name));
    out.emplace_back(*op, index, std::move(values));
  }
  return out;
}

}  // namespace crashgate::kit
