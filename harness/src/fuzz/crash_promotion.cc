#include "fuzz/crash_promotion.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crashgate {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool plain_name(const std::string& s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return true;
}

}  // namespace

Checked<Promotion> promote_crash(const std::string& crash_dir, const std::string& corpora_dir) {
  std::string meta_path = crash_dir + "/crash.json";
  auto meta_text = slurp(meta_path);
  if (!meta_text)
    return failure(fmt::format("{}: no crash.json; is this a crash directory written by `crashgate fuzz` (OUT/crashes/<target>-<signature>)?", crash_dir));
  nlohmann::json meta = nlohmann::json::parse(*meta_text, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("target") || !meta["target"].is_string() ||
      !meta.contains("signature") || !meta["signature"].is_string()) {
    return failure(fmt::format("{}: not the crash.json `crashgate fuzz` writes (it needs string fields target and signature)", meta_path));
  }
  Promotion p;
  p.target = meta["target"].get<std::string>();
  p.signature = meta["signature"].get<std::string>();
  if (!plain_name(p.target)) return failure(fmt::format("{}: target '{}' is not a plain name", meta_path, p.target));
  if (p.signature.empty() || !plain_name(p.signature))
    return failure(fmt::format("{}: this input did not crash again when rerun alone, so it has no signature to be promoted under", crash_dir));
  std::string target_dir = corpora_dir + "/" + p.target;
  if (!fs::is_directory(target_dir))
    return failure(fmt::format("{}: no such corpus folder for target '{}' (--corpora names another corpora/)", target_dir, p.target));
  std::string source = crash_dir + "/minimized";
  if (!fs::exists(source)) source = crash_dir + "/input";
  auto bytes = slurp(source);
  if (!bytes) return failure(fmt::format("{}: neither minimized nor input can be read", crash_dir));
  std::error_code ec;
  fs::create_directories(target_dir + "/regressions", ec);
  p.destination = target_dir + "/regressions/" + p.signature;
  if (auto existing = slurp(p.destination)) {
    if (*existing == *bytes) {
      p.already_there = true;
      return p;
    }
    return failure(fmt::format("{}: already holds a different input for this signature; remove it first if this one should replace it", p.destination));
  }
  std::ofstream out(p.destination, std::ios::binary);
  out << *bytes;
  if (!out) return failure(fmt::format("{}: cannot be written", p.destination));
  return p;
}

}  // namespace crashgate
