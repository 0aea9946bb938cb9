#include "harness/support/report_fixtures.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "crashgate/runner.h"
#include "harness/support/crashers.h"

namespace crashgate::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Frame frame(const std::string& function, const std::string& file, int line, const std::string& module = "/b/bin/driver",
            std::uint64_t offset = 0x1234) {
  return {function, file, line, 7, module, offset, 0x555500000000 + offset};
}

std::string in_root(const std::string& relative) { return std::string(kReportSourceRoot) + "/" + relative; }

CellResult make_cell(const std::string& folder, const std::string& scenario, const std::string& build,
                     std::map<std::string, std::string> params = {}) {
  CellResult r;
  Cell& c = r.cell;
  c.scenario = scenario;
  c.target = "vstore";
  c.build = build;
  c.params = params;
  c.id = scenario + "/vstore/" + build;
  if (!params.empty()) {
    std::string list;
    for (const auto& [k, v] : params) list += (list.empty() ? "" : ",") + k + "=" + v;
    c.id += "[" + list + "]";
  }
  c.seed = 42;
  c.limits.wall = std::chrono::milliseconds(20000);
  c.limits.core = 0;
  c.steps = {{0, "create", {{"dim", 64}}, {}, {}}, {1, "count", json::object(), {}, {}}};
  c.expect.outcome = {OutcomeKind::error};
  c.expect.code = "corrupt";
  r.scenario_file = "scenarios/" + folder + "/" + scenario + ".toml";
  r.summary = "summary of " + scenario;
  r.driver = "/b/" + build + "/bin/crashgate-driver-vstore";
  r.repro = "crashgate repro '" + c.id + "' --run /r";
  return r;
}

Attempt make_attempt(Verdict verdict, OutcomeKind kind, const std::string& detail, std::int64_t ms) {
  Attempt a;
  a.verdict = verdict;
  a.outcome.kind = kind;
  a.outcome.detail = detail;
  a.outcome.duration_ms = ms;
  a.work_dir = "/r/cells/0/attempt-1";
  a.outcome.steps = {{0, "create", StepStatus::ok, "", "", 3.5, {}},
                     {1, "count", kind == OutcomeKind::ok ? StepStatus::ok : kind == OutcomeKind::error ? StepStatus::error : StepStatus::died,
                      kind == OutcomeKind::error ? "io" : "", "", 0, {}}};
  return a;
}

// A SIGBUS in a project frame, below two frames that do not count (libc, then a relative glibc path).
Attempt sigbus_attempt(std::int64_t ms) {
  Attempt a = make_attempt(Verdict::fail, OutcomeKind::signal,
                           "SIGBUS (BUS_ADRERR): read at offset 12,288 of vectors.bin, which is 4,096 bytes long", ms);
  Outcome& o = a.outcome;
  o.signal = SIGBUS;
  o.si_code = 2;
  o.fault_address = 0x7f0000003000;
  o.failed_step = 1;
  Attribution at;
  at.description = "read at offset 12,288 of vectors.bin, which is 4,096 bytes long";
  at.access = "read";
  at.mapping = "7f0000000000-7f0000004000 r--s 00000000 08:01 1234 /r/cells/0/attempt-1/vectors.bin";
  at.file = "/r/cells/0/attempt-1/vectors.bin";
  at.file_offset = 12288;
  at.file_size = 4096;
  at.past_eof = true;
  o.attribution = at;
  o.threads = {
      {4321, "crashgate-drive", "crashed",
       {frame("__memcpy_avx_unaligned", "./string/memcpy.S", 300, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x1a0),
        frame("vstore::VectorFile::slot(unsigned long) const", in_root("targets/vstore/src/vector_file.cc"), 88),
        frame("vstore::Store::count() const", in_root("targets/vstore/src/store.cc"), 412),
        frame("main", in_root("harness/drivers/vstore/main.cc"), 145)},
       ""},
      {4322, "worker-1", "thread", {frame("__futex_abstimed_wait_common", "./nptl/futex-internal.c", 57)}, ""},
  };
  o.crashing_thread = 0;
  o.crash_state = "signal SIGBUS\nvstore::VectorFile::slot\nvstore::Store::count\nmain";
  o.signature = "1f2e3d4c5b6a7988";
  o.stderr_excerpt = {std::string("driver: opening store\n") + kHostileText + "\n", "", 0};
  o.stderr_excerpt.total_bytes = o.stderr_excerpt.head.size();
  return a;
}

Attempt asan_attempt() {
  Attempt a = make_attempt(Verdict::fail, OutcomeKind::asan, "heap-buffer-overflow READ 4 in vstore::Graph::links", 95);
  Outcome& o = a.outcome;
  o.check = "heap-buffer-overflow READ 4";
  o.sanitizer_summary = "AddressSanitizer: heap-buffer-overflow graph.cc:51 in vstore::Graph::links";
  o.threads = {
      {0, "T0", "access", {frame("vstore::Graph::links(unsigned int)", in_root("targets/vstore/src/graph.cc"), 51)}, ""},
      {0, "T0", "allocation", {frame("operator new[](unsigned long)", "", 0, "/usr/lib/libasan.so"),
                               frame("vstore::Graph::grow()", in_root("targets/vstore/src/graph.cc"), 20)}, ""},
  };
  o.crashing_thread = 0;
  o.crash_state = "asan heap-buffer-overflow READ\nvstore::Graph::links";
  o.signature = "aaaabbbbccccdddd";
  return a;
}

}  // namespace

RunResults empty_results() {
  RunResults r;
  r.run_id = "20250611T051130Z";
  r.run_dir = "/r";
  r.started_at = "2025-06-11T05:11:30Z";
  r.duration_ms = 5;
  r.seed = 1;
  r.crashgate_version = "0.1.0";
  r.host = "ci-1 (Linux 6.1.0 x86_64)";
  r.command_line = {"crashgate", "run", "scenarios"};
  r.build_root = "/b";
  r.jobs = 2;
  r.exit_code = 0;
  return r;
}

RunResults report_results() {
  RunResults r = empty_results();
  r.duration_ms = 4321;
  r.exit_code = 1;
  r.rerun_failures = 1;

  CellResult pass = make_cell("truncated-files", "truncated-vectors-bin", "release", {{"cut", "0"}});
  pass.verdict = Verdict::pass;
  pass.origin = "field-reports/000_391c9c321774cbc0.txt";
  pass.attempts = {make_attempt(Verdict::pass, OutcomeKind::error, "step 1 (count) ended in error: corrupt", 40)};

  CellResult sigbus = make_cell("truncated-files", "truncated-vectors-bin", "release", {{"cut", "end-1"}});
  sigbus.verdict = Verdict::fail;
  sigbus.origin = "field-reports/000_391c9c321774cbc0.txt";
  sigbus.cell.regression = "unvalidated-header";
  sigbus.attempts = {sigbus_attempt(812)};
  sigbus.attempts[0].unmet = {"outcome: expected error, got signal", "code: expected corrupt, got none"};

  CellResult asan = make_cell("corrupt-files", "flipped-bytes", "asan", {{"mode", kHostileText}});
  asan.verdict = Verdict::fail;
  asan.attempts = {asan_attempt()};
  asan.attempts[0].unmet = {"outcome: expected error, got asan"};

  CellResult mismatch = make_cell("io-errors", "disk-full-on-append", "debug");
  mismatch.verdict = Verdict::fail;
  mismatch.cell.expect = {.outcome = {OutcomeKind::error}, .code = "resource-exhausted"};
  mismatch.attempts = {make_attempt(Verdict::fail, OutcomeKind::error, std::string("step 1 (count) ended in error: io: ") +
                                                                           kHostileText, 30)};
  mismatch.attempts[0].outcome.failed_step = 1;
  mismatch.attempts[0].unmet = {"code: expected resource-exhausted, got io"};

  CellResult flaky = make_cell("concurrency", "readers-during-growth", "tsan");
  flaky.verdict = Verdict::flaky;
  flaky.cell.expect = {.outcome = {OutcomeKind::ok}};
  Attempt race = make_attempt(Verdict::fail, OutcomeKind::tsan, "data-race WRITE 8 in vstore::Store::grow", 300);
  race.outcome.check = "data-race WRITE 8";
  race.outcome.threads = {{0, "T2", "access", {frame("vstore::Store::grow()", in_root("targets/vstore/src/store.cc"), 230)}, ""},
                          {0, "T1", "previous-access", {frame("vstore::Store::count() const", in_root("targets/vstore/src/store.cc"), 410)}, ""}};
  race.outcome.crashing_thread = 0;
  race.outcome.signature = "0123456789abcdef";
  race.unmet = {"outcome: expected ok, got tsan"};
  Attempt passed = make_attempt(Verdict::pass, OutcomeKind::ok, "exited with status 0", 280);
  passed.work_dir = "/r/cells/4/attempt-2";
  flaky.attempts = {race, passed};

  CellResult missing = make_cell("truncated-files", "truncated-vectors-bin", "asan", {{"cut", "0"}});
  missing.verdict = Verdict::harness_error;
  missing.attempts = {make_attempt(Verdict::harness_error, OutcomeKind::harness_error,
                                   "/b/asan/bin/crashgate-driver-vstore does not exist: build it with `ci/build asan`", 0)};
  missing.attempts[0].work_dir = "";
  missing.attempts[0].outcome.steps.clear();

  CellResult interrupted = make_cell("huge-deletes", "field-or-chain", "release");
  interrupted.verdict = Verdict::not_run;

  r.cells = {pass, sigbus, asan, mismatch, flaky, missing, interrupted};
  return r;
}

RunResults many_failing_results(int n) {
  RunResults r = empty_results();
  r.exit_code = 1;
  for (int i = 0; i < n; ++i) {
    CellResult cell = make_cell(fmt::format("class-{}", i % 7), fmt::format("scenario-{}", i % 50),
                                i % 2 ? "asan" : "release", {{"n", std::to_string(i)}});
    cell.verdict = Verdict::fail;
    cell.origin = fmt::format("field-reports/00{}_x.txt", i % 5);
    Attempt a = sigbus_attempt(100 + i);
    for (int k = 0; k < 26; ++k)
      a.outcome.threads[0].frames.push_back(
          frame(fmt::format("vstore::deep::call_{}(int)", k), in_root(fmt::format("targets/vstore/src/deep_{}.cc", k)), 10 + k));
    a.outcome.signature = fmt::format("{:016x}", 0x1000 + i % 40);
    a.unmet = {"outcome: expected error, got signal"};
    // A chatty driver: 64 KiB of stderr, of which a report shows the end.
    a.outcome.stderr_excerpt.head = std::string(32 * 1024, 'h');
    a.outcome.stderr_excerpt.tail = std::string(32 * 1024, 't') + "\nlast line of stderr\n";
    a.outcome.stderr_excerpt.total_bytes = 1 << 20;
    cell.attempts = {a};
    r.cells.push_back(std::move(cell));
  }
  return r;
}

std::string junit_schema() { return source_dir() + "/tests/harness/data/junit-10.xsd"; }

Outcome run_tool(const std::vector<std::string>& argv, const std::string& stdout_path, int seconds) {
  RunSpec spec;
  if (stdout_path.empty()) {
    spec.argv = argv;
  } else {
    // The capture keeps only a head and a tail; a rendered page must arrive whole.
    spec.argv = {"/bin/sh", "-c", "out=$1; shift; exec \"$@\" > \"$out\"", "sh", stdout_path};
    spec.argv.insert(spec.argv.end(), argv.begin(), argv.end());
  }
  spec.limits.wall = std::chrono::seconds(seconds);
  spec.trace = false;
  spec.sanitizer_options = false;
  return run_observed(spec);
}

std::string xml_schema_errors(const std::string& xsd, const std::string& file) {
  Outcome o = run_tool({"xmllint", "--noout", "--schema", xsd, file});
  if (o.kind == OutcomeKind::ok) return "";
  return fmt::format("xmllint: {}: {}\n{}", to_string(o.kind), o.detail, o.stderr_excerpt.text());
}

std::string xpath(const std::string& file, const std::string& expression) {
  Outcome o = run_tool({"xmllint", "--xpath", expression, file});
  EXPECT_EQ(o.kind, OutcomeKind::ok) << "xmllint --xpath " << expression << ": " << o.detail << "\n"
                                     << o.stderr_excerpt.text();
  std::string value = o.stdout_excerpt.text();
  if (!value.empty() && value.back() == '\n') value.pop_back();  // xmllint ends every value with one
  return value;
}

std::string chromium_binary() {
  if (const char* chosen = std::getenv("CRASHGATE_CHROMIUM"); chosen && *chosen) return chosen;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    for (const char* name : {"chromium", "chromium-browser"})
      if (access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  return "";
}

namespace {

// The page that renders the report in a frame and reads it back: its DOM, and
// the computed background of everything coloured by a verdict or status.
constexpr const char* kProbePage = R"html(<!DOCTYPE html>
<html><body><iframe id="report" src="REPORT" style="width:1400px;height:900px"></iframe><pre id="probe">pending</pre>
<script>
document.getElementById('report').addEventListener('load', () => {
  let out;
  try {
    const d = document.getElementById('report').contentDocument;
    const colours = [];
    for (const el of d.querySelectorAll('[data-verdict], [data-status]')) {
      const coloured = el.matches('[data-status]') ? el.querySelector('td') : el;
      colours.push([el.dataset.cell || el.dataset.regression || '', el.dataset.verdict || el.dataset.status,
                    el.tagName.toLowerCase(), getComputedStyle(coloured).backgroundColor]);
    }
    out = {dom: d.documentElement.outerHTML, colours};
  } catch (e) { out = {error: String(e)}; }
  document.getElementById('probe').textContent = encodeURIComponent(JSON.stringify(out));
});
</script></body></html>
)html";

std::string percent_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// URLs the page itself asked for: net log URL requests with a page initiator
// (Chromium's own update and account checks have none: "not an origin").
std::vector<std::string> page_requests(const json& log) {
  std::vector<std::string> urls;
  if (!log.contains("constants") || !log.contains("events")) return {"<net log unreadable>"};
  int start_job = log["constants"]["logEventTypes"].value("URL_REQUEST_START_JOB", -1);
  for (const auto& event : log["events"]) {
    if (!event.contains("type") || event["type"] != start_job || !event.contains("params")) continue;
    const json& p = event["params"];
    if (!p.contains("url") || (p.contains("initiator") && p["initiator"] == "not an origin")) continue;
    urls.push_back(p["url"].get<std::string>());
  }
  return urls;
}

}  // namespace

RenderedPage render_in_chromium(const std::string& html_file) {
  RenderedPage page;
  std::string chromium = chromium_binary();
  if (chromium.empty()) {
    page.problem = "headless Chromium is not installed: run ci/setup (it installs the Debian package `chromium`)";
    return page;
  }
  fs::path dir = fs::path(html_file).parent_path() / "chromium";
  fs::create_directories(dir);
  std::string probe = (dir / "probe.html").string();
  std::string page_html = kProbePage;
  page_html.replace(page_html.find("REPORT"), 6, "file://" + fs::absolute(html_file).string());
  write_file(probe, page_html);
  std::string dom_file = (dir / "dom.html").string(), net_log = (dir / "net.json").string();
  Outcome o = run_tool({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + (dir / "profile").string(),
                        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND", "--allow-file-access-from-files",
                        "--log-net-log=" + net_log, "--dump-dom", "file://" + probe},
                       dom_file, 120);
  if (o.kind != OutcomeKind::ok) {
    page.problem = fmt::format("chromium: {}: {}\n{}", to_string(o.kind), o.detail, o.stderr_excerpt.text());
    return page;
  }
  std::string outer = read_file(dom_file);
  auto start = outer.find("<pre id=\"probe\">"), end = outer.find("</pre>", start);
  if (start == std::string::npos || end == std::string::npos) {
    page.problem = "the probe page did not render: " + outer.substr(0, 2000);
    return page;
  }
  start += std::string("<pre id=\"probe\">").size();
  auto result = json::parse(percent_decode(outer.substr(start, end - start)), nullptr, false);
  if (result.is_discarded() || !result.is_object() || result.contains("error") || !result.contains("dom")) {
    page.problem = "the probe could not read the report: " + outer.substr(start, std::min<std::size_t>(end - start, 2000));
    return page;
  }
  page.dom = result["dom"].get<std::string>();
  for (const auto& c : result["colours"])
    page.probe += fmt::format("{}\t{}\t{}\t{}\n", c[0].get<std::string>(), c[1].get<std::string>(), c[2].get<std::string>(),
                              c[3].get<std::string>());
  auto log = json::parse(read_file(net_log), nullptr, false);
  page.requests = log.is_discarded() ? std::vector<std::string>{"<net log is not JSON>"} : page_requests(log);
  return page;
}

}  // namespace crashgate::testing
