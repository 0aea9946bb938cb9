#include "crashgate/result_json.h"

#include <fmt/format.h>

namespace crashgate {
namespace {

using nlohmann::json;

std::string hex(std::uint64_t value) { return fmt::format("0x{:x}", value); }

template <class T>
json optional_json(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

json frame_json(const Frame& f) {
  return {{"function", f.function}, {"file", f.file},     {"line", f.line},
          {"column", f.column},     {"module", f.module}, {"module_offset", hex(f.module_offset)},
          {"pc", hex(f.pc)}};
}

json excerpt_json(const OutputExcerpt& e) {
  return {{"head", e.head}, {"tail", e.tail}, {"total_bytes", e.total_bytes}, {"truncated", e.truncated()}};
}

// Reading is strict about types: a result file that changed shape must say where.
struct Reader {
  std::string& error;
  std::string path;

  bool fail(const std::string& field, const std::string& what) {
    if (error.empty()) error = fmt::format("{}{}: {}", path, field, what);
    return false;
  }
  template <class T>
  bool get(const json& j, const std::string& field, T& out) {
    if (!j.contains(field)) return fail(field, "missing");
    try {
      out = j.at(field).get<T>();
    } catch (const json::exception&) {
      return fail(field, "has the wrong type");
    }
    return true;
  }
  template <class T>
  bool get_optional(const json& j, const std::string& field, std::optional<T>& out) {
    if (!j.contains(field) || j.at(field).is_null()) {
      out.reset();
      return true;
    }
    T value;
    if (!get(j, field, value)) return false;
    out = value;
    return true;
  }
  // A name of one of the table's values: `parse` returns it, or nothing.
  template <class T, class Parse>
  bool get_named(const json& j, const std::string& field, T& out, Parse parse, std::string_view expected) {
    std::string text;
    if (!get(j, field, text)) return false;
    std::optional<T> value = parse(text);
    if (!value) return fail(field, fmt::format("'{}' is not one of {}", text, expected));
    out = *value;
    return true;
  }
  bool get_hex(const json& j, const std::string& field, std::uint64_t& out) {
    std::string text;
    if (!get(j, field, text)) return false;
    try {
      std::size_t used = 0;
      out = std::stoull(text, &used, 16);
      if (used != text.size()) return fail(field, "is not a hex number");
    } catch (const std::exception&) {
      return fail(field, "is not a hex number");
    }
    return true;
  }
};

}  // namespace

json to_json(const Outcome& o) {
  json threads = json::array();
  for (const auto& t : o.threads) {
    json frames = json::array();
    for (const auto& f : t.frames) frames.push_back(frame_json(f));
    threads.push_back({{"tid", t.tid}, {"name", t.name}, {"role", t.role}, {"frames", frames}, {"error", t.error}});
  }
  json attribution = nullptr;
  if (o.attribution) {
    const Attribution& a = *o.attribution;
    attribution = {{"description", a.description},
                   {"access", a.access},
                   {"mapping", a.mapping},
                   {"file", a.file},
                   {"file_offset", optional_json(a.file_offset)},
                   {"file_size", optional_json(a.file_size)},
                   {"past_eof", a.past_eof},
                   {"null_page", a.null_page},
                   {"stack_guard", a.stack_guard},
                   {"stack_thread", optional_json(a.stack_thread)},
                   {"stack_thread_name", a.stack_thread_name},
                   {"thread_stack_size", optional_json(a.thread_stack_size)}};
  }
  json steps = json::array();
  for (const auto& s : o.steps) {
    json step = {{"index", s.index}, {"op", s.op}, {"status", to_string(s.status)}, {"code", s.code},
                 {"message", s.message}, {"duration_ms", s.duration_ms}};
    if (!s.measured.empty()) step["measured"] = s.measured;
    steps.push_back(std::move(step));
  }
  json known = nullptr;
  if (o.known_issue)
    known = {{"id", o.known_issue->id}, {"title", o.known_issue->title}, {"url", o.known_issue->url},
             {"matched_by", o.known_issue->matched_by}};
  return {
      {"schema", kResultSchema},
      {"kind", std::string(to_string(o.kind))},
      {"detail", o.detail},
      {"exit_code", optional_json(o.exit_code)},
      {"signal", o.signal ? json(signal_name(*o.signal)) : json(nullptr)},
      {"signal_number", optional_json(o.signal)},
      {"si_code", optional_json(o.si_code)},
      {"si_code_name", o.signal && o.si_code ? json(si_code_name(*o.signal, *o.si_code)) : json(nullptr)},
      {"fault_address", o.fault_address ? json(hex(*o.fault_address)) : json(nullptr)},
      {"check", o.check},
      {"sanitizer_summary", o.sanitizer_summary},
      {"attribution", attribution},
      {"threads", threads},
      {"crashing_thread", o.crashing_thread},
      {"crashed_pid", o.crashed_pid},
      {"crash_state", o.crash_state},
      {"signature", o.signature},
      {"known_issue", known},
      {"engine", o.engine ? json{{"name", o.engine->name}, {"version", o.engine->version}} : json(nullptr)},
      {"duration_ms", o.duration_ms},
      {"diagnosis_ms", o.diagnosis_ms},
      {"peak_rss_kb", o.peak_rss_kb},
      {"stdout", excerpt_json(o.stdout_excerpt)},
      {"stderr", excerpt_json(o.stderr_excerpt)},
      {"command", o.command},
      {"repro", o.repro},
      {"steps", steps},
      {"failed_step", optional_json(o.failed_step)},
      {"notes", o.notes},
  };
}

namespace {

std::optional<Outcome> read_outcome(const json& j, std::string& error) {
  error.clear();
  Reader r{error, ""};
  Outcome o;
  std::string schema, kind;
  if (!j.is_object()) {
    error = "a result must be a JSON object";
    return std::nullopt;
  }
  if (!r.get(j, "schema", schema)) return std::nullopt;
  if (schema != kResultSchema) {
    error = fmt::format("schema: '{}' is not {}", schema, kResultSchema);
    return std::nullopt;
  }
  if (!r.get(j, "kind", kind)) return std::nullopt;
  auto parsed_kind = parse_outcome_kind(kind);
  if (!parsed_kind) {
    error = fmt::format("kind: '{}' is not an outcome kind", kind);
    return std::nullopt;
  }
  o.kind = *parsed_kind;
  std::optional<std::string> fault;
  bool ok = r.get(j, "detail", o.detail) && r.get_optional(j, "exit_code", o.exit_code) &&
            r.get_optional(j, "signal_number", o.signal) && r.get_optional(j, "si_code", o.si_code) &&
            r.get_optional(j, "fault_address", fault) && r.get(j, "check", o.check) &&
            r.get(j, "sanitizer_summary", o.sanitizer_summary) && r.get(j, "crashing_thread", o.crashing_thread) &&
            r.get(j, "crashed_pid", o.crashed_pid) && r.get(j, "crash_state", o.crash_state) &&
            r.get(j, "signature", o.signature) && r.get(j, "duration_ms", o.duration_ms) && r.get(j, "diagnosis_ms", o.diagnosis_ms) &&
            r.get(j, "peak_rss_kb", o.peak_rss_kb) && r.get(j, "command", o.command) && r.get(j, "repro", o.repro) &&
            r.get_optional(j, "failed_step", o.failed_step) && r.get(j, "notes", o.notes);
  if (!ok) return std::nullopt;
  if (fault) {
    json holder = {{"fault_address", *fault}};
    std::uint64_t address = 0;
    if (!r.get_hex(holder, "fault_address", address)) return std::nullopt;
    o.fault_address = address;
  }
  if (j.contains("engine") && !j["engine"].is_null()) {  // optional: results from before it was recorded lack it
    Reader er{error, "engine."};
    EngineId engine;
    if (!(er.get(j["engine"], "name", engine.name) && er.get(j["engine"], "version", engine.version))) return std::nullopt;
    o.engine = std::move(engine);
  }
  if (j.contains("attribution") && !j["attribution"].is_null()) {
    const json& a = j["attribution"];
    Reader ar{error, "attribution."};
    Attribution at;
    if (!(ar.get(a, "description", at.description) && ar.get(a, "access", at.access) &&
          ar.get(a, "mapping", at.mapping) && ar.get(a, "file", at.file) &&
          ar.get_optional(a, "file_offset", at.file_offset) && ar.get_optional(a, "file_size", at.file_size) &&
          ar.get(a, "past_eof", at.past_eof) && ar.get(a, "null_page", at.null_page) &&
          ar.get(a, "stack_guard", at.stack_guard) && ar.get_optional(a, "stack_thread", at.stack_thread) &&
          ar.get(a, "stack_thread_name", at.stack_thread_name) &&
          ar.get_optional(a, "thread_stack_size", at.thread_stack_size)))
      return std::nullopt;
    o.attribution = at;
  }
  if (!j.contains("threads") || !j["threads"].is_array()) {
    error = "threads: missing or not an array";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < j["threads"].size(); ++i) {
    const json& t = j["threads"][i];
    Reader tr{error, fmt::format("threads[{}].", i)};
    Thread thread;
    if (!(tr.get(t, "tid", thread.tid) && tr.get(t, "name", thread.name) && tr.get(t, "role", thread.role) &&
          tr.get(t, "error", thread.error)))
      return std::nullopt;
    if (!t.contains("frames") || !t["frames"].is_array()) {
      error = fmt::format("threads[{}].frames: missing or not an array", i);
      return std::nullopt;
    }
    for (std::size_t k = 0; k < t["frames"].size(); ++k) {
      const json& f = t["frames"][k];
      Reader fr{error, fmt::format("threads[{}].frames[{}].", i, k)};
      Frame frame;
      if (!(fr.get(f, "function", frame.function) && fr.get(f, "file", frame.file) && fr.get(f, "line", frame.line) &&
            fr.get(f, "column", frame.column) && fr.get(f, "module", frame.module) &&
            fr.get_hex(f, "module_offset", frame.module_offset) && fr.get_hex(f, "pc", frame.pc)))
        return std::nullopt;
      thread.frames.push_back(std::move(frame));
    }
    o.threads.push_back(std::move(thread));
  }
  if (j.contains("known_issue") && !j["known_issue"].is_null()) {
    Reader kr{error, "known_issue."};
    KnownIssueMatch m;
    const json& k = j["known_issue"];
    if (!(kr.get(k, "id", m.id) && kr.get(k, "title", m.title) && kr.get(k, "url", m.url) &&
          kr.get(k, "matched_by", m.matched_by)))
      return std::nullopt;
    o.known_issue = m;
  }
  for (auto [field, excerpt] : {std::pair{"stdout", &o.stdout_excerpt}, std::pair{"stderr", &o.stderr_excerpt}}) {
    Reader er{error, std::string(field) + "."};
    if (!j.contains(field)) {
      error = std::string(field) + ": missing";
      return std::nullopt;
    }
    const json& e = j[field];
    if (!(er.get(e, "head", excerpt->head) && er.get(e, "tail", excerpt->tail) &&
          er.get(e, "total_bytes", excerpt->total_bytes)))
      return std::nullopt;
  }
  if (!j.contains("steps") || !j["steps"].is_array()) {
    error = "steps: missing or not an array";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < j["steps"].size(); ++i) {
    const json& s = j["steps"][i];
    Reader sr{error, fmt::format("steps[{}].", i)};
    StepRecord step;
    if (!(sr.get(s, "index", step.index) && sr.get(s, "op", step.op) && sr.get_named(s, "status", step.status, parse_step_status, "ok, error, died") &&
          sr.get(s, "code", step.code) && sr.get(s, "message", step.message) &&
          sr.get(s, "duration_ms", step.duration_ms)))
      return std::nullopt;
    if (s.contains("measured")) {
      const json& m = s["measured"];
      if (!m.is_object()) {
        error = fmt::format("steps[{}].measured: not an object", i);
        return std::nullopt;
      }
      for (const auto& [name, value] : m.items()) {
        if (!value.is_number()) {
          error = fmt::format("steps[{}].measured.{}: not a number", i, name);
          return std::nullopt;
        }
        step.measured[name] = value.get<double>();
      }
    }
    o.steps.push_back(std::move(step));
  }
  return o;
}

}  // namespace

Checked<Outcome> outcome_from_json(const json& j) {
  std::string error;
  std::optional<Outcome> o = read_outcome(j, error);
  if (!o) return failure(error);
  return std::move(*o);
}

}  // namespace crashgate
