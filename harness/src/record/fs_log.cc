// calls.jsonl: one FsCall a line (fs_recording.h), written as each call
// completes and read back checked.
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/fs_recording.h"
#include "record/fs_log.h"

namespace crashgate::record {

std::string fs_call_line(const FsCall& c) {
  nlohmann::json j{{"seq", c.seq}, {"pid", c.pid}, {"tid", c.tid}, {"call", c.call}, {"kind", c.kind}, {"result", c.result}};
  if (!c.path.empty()) j["path"] = c.path;
  if (!c.path2.empty()) j["path2"] = c.path2;
  if (c.offset) j["offset"] = *c.offset;
  if (c.length) j["length"] = *c.length;
  if (c.addr) j["addr"] = *c.addr;
  if (c.flags) j["flags"] = c.flags;
  if (!c.found_at.empty()) j["found_at"] = c.found_at;
  if (c.data_at) j["data_at"] = *c.data_at;
  if (!c.stack.empty()) j["stack"] = c.stack;
  return j.dump();
}

}  // namespace crashgate::record

namespace crashgate {

Checked<std::vector<FsCall>> read_fs_calls(const std::string& recording_dir) {
  std::string path = recording_dir + "/calls.jsonl";
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot be read (is {} a recording directory?)", path, recording_dir));
  std::vector<FsCall> calls;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto where = [&](const std::string& what) { return failure(fmt::format("{}:{}: {}", path, n, what)); };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) return where("not a JSON object");
    FsCall c;
    try {
      c.seq = j.at("seq").get<std::uint64_t>();
      c.pid = j.at("pid").get<int>();
      c.tid = j.at("tid").get<int>();
      c.call = j.at("call").get<std::string>();
      c.kind = j.at("kind").get<std::string>();
      c.result = j.at("result").get<std::int64_t>();
      if (j.contains("path")) c.path = j["path"].get<std::string>();
      if (j.contains("path2")) c.path2 = j["path2"].get<std::string>();
      if (j.contains("offset")) c.offset = j["offset"].get<std::uint64_t>();
      if (j.contains("length")) c.length = j["length"].get<std::uint64_t>();
      if (j.contains("addr")) c.addr = j["addr"].get<std::uint64_t>();
      if (j.contains("flags")) c.flags = j["flags"].get<std::int64_t>();
      if (j.contains("found_at")) c.found_at = j["found_at"].get<std::string>();
      if (j.contains("data_at")) c.data_at = j["data_at"].get<std::uint64_t>();
      if (j.contains("stack")) c.stack = j["stack"].get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception& e) {
      return where(std::string("a field is missing or of the wrong type: ") + e.what());
    }
    calls.push_back(std::move(c));
  }
  return calls;
}

}  // namespace crashgate
