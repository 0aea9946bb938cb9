// results.sarif against SARIF 2.1.0. No copy of the OASIS JSON schema can be
// installed from a Debian package (only Go and Python object models are
// packaged, without it), so this file holds, for every object kind the writer
// emits, the properties the schema allows and requires (its
// additionalProperties: false, required, anyOf, enums and minimums), and walks
// the whole log against them; then checks what each result says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "crashgate/report_writers.h"
#include "harness/support/report_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

// One object kind of sarif-schema-2.1.0.json: its properties, each with the kind of
// object (or array of objects) it holds ("" for scalars and property bags), and its rules.
struct Kind {
  std::map<std::string, std::string> properties;  // name -> kind of its value ("[kind]" for an array of them)
  std::vector<std::string> required;
  std::vector<std::vector<std::string>> any_of;   // at least one of each group
};

const std::map<std::string, Kind>& sarif_kinds() {
  static const std::map<std::string, Kind> kinds = {
      {"sarifLog", {{{"$schema", ""}, {"version", ""}, {"runs", "[run]"}, {"inlineExternalProperties", ""}, {"properties", ""}},
                    {"version", "runs"}, {}}},
      {"run", {{{"tool", "tool"}, {"invocations", "[invocation]"}, {"conversion", ""}, {"language", ""},
                {"versionControlProvenance", ""}, {"originalUriBaseIds", "{artifactLocation}"}, {"artifacts", ""},
                {"logicalLocations", "[logicalLocation]"}, {"graphs", ""}, {"results", "[result]"},
                {"automationDetails", "runAutomationDetails"}, {"runAggregates", ""}, {"baselineGuid", ""},
                {"redactionTokens", ""}, {"defaultEncoding", ""}, {"defaultSourceLanguage", ""}, {"newlineSequences", ""},
                {"columnKind", ""}, {"externalPropertyFileReferences", ""}, {"threadFlowLocations", ""}, {"taxonomies", ""},
                {"addresses", ""}, {"translations", ""}, {"policies", ""}, {"webRequests", ""}, {"webResponses", ""},
                {"specialLocations", ""}, {"properties", ""}},
               {"tool"}, {}}},
      {"tool", {{{"driver", "toolComponent"}, {"extensions", "[toolComponent]"}, {"properties", ""}}, {"driver"}, {}}},
      {"toolComponent", {{{"guid", ""}, {"name", ""}, {"organization", ""}, {"product", ""}, {"productSuite", ""},
                          {"shortDescription", "multiformatMessageString"}, {"fullDescription", "multiformatMessageString"},
                          {"fullName", ""}, {"version", ""}, {"semanticVersion", ""}, {"dottedQuadFileVersion", ""},
                          {"releaseDateUtc", ""}, {"downloadUri", ""}, {"informationUri", ""}, {"globalMessageStrings", ""},
                          {"notifications", "[reportingDescriptor]"}, {"rules", "[reportingDescriptor]"}, {"taxa", ""},
                          {"locations", ""}, {"language", ""}, {"contents", ""}, {"isComprehensive", ""},
                          {"localizedDataSemanticVersion", ""}, {"minimumRequiredLocalizedDataSemanticVersion", ""},
                          {"associatedComponent", ""}, {"translationMetadata", ""}, {"supportedTaxonomies", ""},
                          {"properties", ""}},
                         {"name"}, {}}},
      {"reportingDescriptor", {{{"id", ""}, {"deprecatedIds", ""}, {"guid", ""}, {"deprecatedGuids", ""}, {"name", ""},
                                {"deprecatedNames", ""}, {"shortDescription", "multiformatMessageString"},
                                {"fullDescription", "multiformatMessageString"}, {"messageStrings", ""},
                                {"defaultConfiguration", "reportingConfiguration"}, {"helpUri", ""},
                                {"help", "multiformatMessageString"}, {"relationships", ""}, {"properties", ""}},
                               {"id"}, {}}},
      {"reportingConfiguration", {{{"enabled", ""}, {"level", ""}, {"rank", ""}, {"parameters", ""}, {"properties", ""}}, {}, {}}},
      {"multiformatMessageString", {{{"text", ""}, {"markdown", ""}, {"properties", ""}}, {"text"}, {}}},
      {"message", {{{"text", ""}, {"markdown", ""}, {"id", ""}, {"arguments", ""}, {"properties", ""}}, {}, {{"text", "id"}}}},
      {"invocation", {{{"commandLine", ""}, {"arguments", ""}, {"responseFiles", ""}, {"startTimeUtc", ""}, {"endTimeUtc", ""},
                       {"exitCode", ""}, {"ruleConfigurationOverrides", ""}, {"notificationConfigurationOverrides", ""},
                       {"toolExecutionNotifications", "[notification]"}, {"toolConfigurationNotifications", "[notification]"},
                       {"exitCodeDescription", ""}, {"exitSignalName", ""}, {"exitSignalNumber", ""},
                       {"processStartFailureMessage", ""}, {"executionSuccessful", ""}, {"machine", ""}, {"account", ""},
                       {"processId", ""}, {"executableLocation", "artifactLocation"}, {"workingDirectory", "artifactLocation"},
                       {"environmentVariables", ""}, {"stdin", "artifactLocation"}, {"stdout", "artifactLocation"},
                       {"stderr", "artifactLocation"}, {"stdoutStderr", "artifactLocation"}, {"properties", ""}},
                      {"executionSuccessful"}, {}}},
      {"notification", {{{"locations", "[location]"}, {"message", "message"}, {"level", ""}, {"threadId", ""}, {"timeUtc", ""},
                         {"exception", ""}, {"descriptor", ""}, {"associatedRule", ""}, {"properties", ""}},
                        {"message"}, {}}},
      {"runAutomationDetails", {{{"description", "message"}, {"id", ""}, {"guid", ""}, {"correlationGuid", ""}, {"properties", ""}}, {}, {}}},
      {"artifactLocation", {{{"uri", ""}, {"uriBaseId", ""}, {"index", ""}, {"description", "message"}, {"properties", ""}}, {}, {}}},
      {"result", {{{"ruleId", ""}, {"ruleIndex", ""}, {"rule", ""}, {"kind", ""}, {"level", ""}, {"message", "message"},
                   {"analysisTarget", "artifactLocation"}, {"locations", "[location]"}, {"guid", ""}, {"correlationGuid", ""},
                   {"occurrenceCount", ""}, {"partialFingerprints", ""}, {"fingerprints", ""}, {"stacks", "[stack]"},
                   {"codeFlows", ""}, {"graphs", ""}, {"graphTraversals", ""}, {"relatedLocations", "[location]"},
                   {"suppressions", ""}, {"baselineState", ""}, {"rank", ""}, {"attachments", ""}, {"hostedViewerUri", ""},
                   {"workItemUris", ""}, {"provenance", ""}, {"fixes", ""}, {"taxa", ""}, {"webRequest", ""},
                   {"webResponse", ""}, {"properties", ""}},
                  {"message"}, {}}},
      {"location", {{{"id", ""}, {"physicalLocation", "physicalLocation"}, {"logicalLocations", "[logicalLocation]"},
                     {"message", "message"}, {"annotations", "[region]"}, {"relationships", ""}, {"properties", ""}},
                    {}, {}}},
      {"physicalLocation", {{{"address", ""}, {"artifactLocation", "artifactLocation"}, {"region", "region"},
                             {"contextRegion", "region"}, {"properties", ""}},
                            {}, {{"address", "artifactLocation"}}}},
      {"region", {{{"startLine", ""}, {"startColumn", ""}, {"endLine", ""}, {"endColumn", ""}, {"charOffset", ""},
                   {"charLength", ""}, {"byteOffset", ""}, {"byteLength", ""}, {"snippet", ""}, {"message", "message"},
                   {"sourceLanguage", ""}, {"properties", ""}},
                  {}, {{"startLine", "charOffset", "byteOffset"}}}},
      {"logicalLocation", {{{"name", ""}, {"index", ""}, {"fullyQualifiedName", ""}, {"decoratedName", ""}, {"parentIndex", ""},
                            {"kind", ""}, {"properties", ""}},
                           {}, {}}},
      {"stack", {{{"message", "message"}, {"frames", "[stackFrame]"}, {"properties", ""}}, {"frames"}, {}}},
      {"stackFrame", {{{"location", "location"}, {"module", ""}, {"threadId", ""}, {"parameters", ""}, {"properties", ""}}, {}, {}}},
  };
  return kinds;
}

// RFC 3986 URI reference characters: unreserved, reserved, and %XX escapes only.
bool valid_uri_reference(const std::string& uri) {
  static const std::regex pattern(R"(^([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$)");
  return std::regex_match(uri, pattern);
}

void check_value(const json& value, const std::string& kind, const std::string& where, std::vector<std::string>& problems);

void check_object(const json& object, const std::string& kind, const std::string& where, std::vector<std::string>& problems) {
  if (!object.is_object()) {
    problems.push_back(where + ": a " + kind + " must be an object");
    return;
  }
  const Kind& k = sarif_kinds().at(kind);
  for (const auto& [name, value] : object.items()) {
    auto property = k.properties.find(name);
    if (property == k.properties.end()) {
      problems.push_back(where + ": " + kind + " has no property '" + name + "' (the schema allows no others)");
      continue;
    }
    if (!property->second.empty()) check_value(value, property->second, where + "." + name, problems);
    if (name == "properties" && !value.is_object()) problems.push_back(where + ".properties: a property bag is an object");
  }
  for (const auto& name : k.required)
    if (!object.contains(name)) problems.push_back(where + ": " + kind + " requires '" + name + "'");
  for (const auto& group : k.any_of) {
    bool any = false;
    for (const auto& name : group) any = any || object.contains(name);
    if (!any) problems.push_back(where + ": " + kind + " needs one of " + ::testing::PrintToString(group));
  }
  // The value rules of the properties the writer uses.
  auto enum_of = [&](const char* name, std::set<std::string> allowed) {
    if (object.contains(name) && !(object[name].is_string() && allowed.count(object[name].get<std::string>())))
      problems.push_back(where + "." + name + ": " + object[name].dump() + " is not one of the schema's values");
  };
  if (kind == "sarifLog" && !(object.contains("version") && object["version"] == "2.1.0")) problems.push_back(where + ".version must be \"2.1.0\"");
  if (kind == "result" || kind == "notification" || kind == "reportingConfiguration")
    enum_of("level", {"none", "note", "warning", "error"});
  if (kind == "result") enum_of("kind", {"notApplicable", "pass", "fail", "review", "open", "informational"});
  if (kind == "result" && object.contains("partialFingerprints"))
    for (const auto& [name, value] : object["partialFingerprints"].items())
      if (!value.is_string()) problems.push_back(where + ".partialFingerprints." + name + " must be a string");
  if (kind == "result" && object.contains("stacks")) {
    std::set<std::string> seen;
    for (const auto& stack : object["stacks"])
      if (!seen.insert(stack.dump()).second) problems.push_back(where + ".stacks: the schema wants unique stacks");
  }
  if (kind == "region")
    for (const char* name : {"startLine", "startColumn", "endLine", "endColumn"})
      if (object.contains(name) && !(object[name].is_number_integer() && object[name].get<int>() >= 1))
        problems.push_back(where + "." + name + " must be an integer >= 1");
  if (kind == "artifactLocation" && object.contains("uri")) {
    std::string uri = object["uri"].get<std::string>();
    if (!valid_uri_reference(uri)) problems.push_back(where + ".uri '" + uri + "' is not a URI reference");
    if (object.contains("uriBaseId") && uri.find(':') != std::string::npos)
      problems.push_back(where + ".uri is resolved against uriBaseId, so it must be relative");
  }
  if (kind == "invocation" && !(object.contains("executionSuccessful") && object["executionSuccessful"].is_boolean()))
    problems.push_back(where + ".executionSuccessful must be a boolean");
  if (kind == "stackFrame" && object.contains("threadId") && !object["threadId"].is_number_integer())
    problems.push_back(where + ".threadId must be an integer");
}

void check_value(const json& value, const std::string& kind, const std::string& where, std::vector<std::string>& problems) {
  if (kind.front() == '[') {
    if (!value.is_array()) return problems.push_back(where + ": must be an array");
    for (std::size_t i = 0; i < value.size(); ++i)
      check_object(value[i], kind.substr(1, kind.size() - 2), where + "[" + std::to_string(i) + "]", problems);
  } else if (kind.front() == '{') {
    if (!value.is_object()) return problems.push_back(where + ": must be an object");
    for (const auto& [name, item] : value.items()) check_object(item, kind.substr(1, kind.size() - 2), where + "." + name, problems);
  } else {
    check_object(value, kind, where, problems);
  }
}

// Every violation of the SARIF 2.1.0 schema's rules for what the writer emits, one a line.
std::string sarif_problems(const json& log) {
  std::vector<std::string> problems;
  check_object(log, "sarifLog", "$", problems);
  const json none = json::array();
  for (const auto& run : log.contains("runs") ? log["runs"] : none) {
    // ruleIndex points at the rule named by ruleId.
    const json& rules = run["tool"]["driver"].contains("rules") ? run["tool"]["driver"]["rules"] : none;
    for (const auto& result : run.contains("results") ? run["results"] : none)
      if (result.contains("ruleIndex") &&
          (result["ruleIndex"].get<int>() >= static_cast<int>(rules.size()) ||
           rules[result["ruleIndex"].get<int>()]["id"] != result["ruleId"]))
        problems.push_back("ruleIndex " + result["ruleIndex"].dump() + " does not name rule " + result["ruleId"].dump());
    if (!run.contains("originalUriBaseIds")) continue;
    for (const auto& [id, base] : run["originalUriBaseIds"].items()) {
      std::string uri = base.contains("uri") ? base["uri"].get<std::string>() : "";
      if (uri.rfind("file:///", 0) != 0 || uri.back() != '/') problems.push_back(id + ": a base URI is absolute and ends in '/'");
    }
  }
  std::string out;
  for (const auto& p : problems) out += p + "\n";
  return out;
}

json sarif_of(const RunResults& results) {
  ReportInputs inputs;
  inputs.source_root = testing::kReportSourceRoot;
  std::string text = write_sarif(results, inputs);
  return json::parse(text);  // throws on invalid UTF-8 or syntax: the test fails
}

const json& result_for(const json& log, const std::string& cell) {
  for (const auto& r : log["runs"][0]["results"])
    if (r["properties"]["cell"] == cell) return r;
  static const json none = json::object();
  ADD_FAILURE() << "no result for " << cell;
  return none;
}

TEST(ReportSarif, EveryObjectHasWhatSarif210RequiresAndNothingItForbids) {
  json log = sarif_of(testing::report_results());
  EXPECT_EQ(sarif_problems(log), "");
  EXPECT_EQ(log["version"], "2.1.0");
  EXPECT_EQ(log["runs"].size(), 1u);
  EXPECT_EQ(log["runs"][0]["tool"]["driver"]["name"], "crashgate");
  EXPECT_EQ(log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"], "file:///src/crashgate/");
}

TEST(ReportSarif, TheSchemaCheckCatchesWhatTheSchemaForbids) {
  json log = sarif_of(testing::report_results());
  json& result = log["runs"][0]["results"][0];
  result.erase("message");
  result["crashgateExtra"] = 1;
  result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0;
  log["runs"][0]["tool"]["driver"]["rules"][0].erase("id");
  std::string problems = sarif_problems(log);
  EXPECT_THAT(problems, HasSubstr("result requires 'message'"));
  EXPECT_THAT(problems, HasSubstr("result has no property 'crashgateExtra'"));
  EXPECT_THAT(problems, HasSubstr("startLine must be an integer >= 1"));
  EXPECT_THAT(problems, HasSubstr("reportingDescriptor requires 'id'"));
}

TEST(ReportSarif, ARulePerCrashKindOrCheckAndAResultPerFailingCell) {
  json log = sarif_of(testing::report_results());
  std::set<std::string> rules;
  for (const auto& rule : log["runs"][0]["tool"]["driver"]["rules"]) {
    rules.insert(rule["id"].get<std::string>());
    EXPECT_FALSE(rule["shortDescription"]["text"].get<std::string>().empty());
  }
  EXPECT_EQ(rules, (std::set<std::string>{"signal/SIGBUS", "asan/heap-buffer-overflow", "expectation-mismatch", "tsan/data-race"}));
  const json& results = log["runs"][0]["results"];
  ASSERT_EQ(results.size(), 4u) << "three failures and one flaky cell; the pass, the harness error and the interrupted cell are not results";
  EXPECT_EQ(result_for(log, "truncated-vectors-bin/vstore/release[cut=end-1]")["level"], "error");
  EXPECT_EQ(result_for(log, "readers-during-growth/vstore/tsan")["level"], "note") << "flaky: it met its expectation in the end";
  EXPECT_EQ(result_for(log, "disk-full-on-append/vstore/debug")["ruleId"], "expectation-mismatch");
}

TEST(ReportSarif, AResultIsLocatedAtItsFirstProjectFrameWithTheHeadlineAndTheSignature) {
  json log = sarif_of(testing::report_results());
  const json& r = result_for(log, "truncated-vectors-bin/vstore/release[cut=end-1]");
  EXPECT_EQ(r["ruleId"], "signal/SIGBUS");
  EXPECT_EQ(r["message"]["text"], "signal SIGBUS at step 1: SIGBUS (BUS_ADRERR): read at offset 12,288 of vectors.bin, "
                                  "which is 4,096 bytes long (expected error corrupt)");
  const json& where = r["locations"][0]["physicalLocation"];
  EXPECT_EQ(where["artifactLocation"]["uri"], "targets/vstore/src/vector_file.cc") << "libc's memcpy is not the project's";
  EXPECT_EQ(where["artifactLocation"]["uriBaseId"], "SRCROOT");
  EXPECT_EQ(where["region"]["startLine"], 88);
  EXPECT_EQ(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "vstore::VectorFile::slot(unsigned long) const");
  EXPECT_EQ(r["partialFingerprints"]["crashSignature/v1"], "1f2e3d4c5b6a7988");
  EXPECT_EQ(r["properties"]["attribution"], "read at offset 12,288 of vectors.bin, which is 4,096 bytes long");
  EXPECT_THAT(r["properties"]["repro"].get<std::string>(), HasSubstr("crashgate repro"));
  // The stacks, the crashed one first, each frame where it is.
  ASSERT_EQ(r["stacks"].size(), 2u);
  EXPECT_THAT(r["stacks"][0]["message"]["text"].get<std::string>(), HasSubstr("crashed (thread 4321"));
  const json& frames = r["stacks"][0]["frames"];
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0]["location"]["physicalLocation"]["artifactLocation"]["uri"], "./string/memcpy.S");
  EXPECT_EQ(frames[2]["location"]["physicalLocation"]["artifactLocation"]["uri"], "targets/vstore/src/store.cc");
  EXPECT_EQ(frames[2]["location"]["physicalLocation"]["region"]["startLine"], 412);
  EXPECT_EQ(frames[2]["threadId"], 4321);
  EXPECT_EQ(frames[0]["module"], "/usr/lib/x86_64-linux-gnu/libc.so.6");
}

TEST(ReportSarif, ASanitizerResultPointsAtTheAccessAndAFailureWithoutStacksAtItsScenario) {
  json log = sarif_of(testing::report_results());
  const json& asan = log["runs"][0]["results"][1];
  EXPECT_EQ(asan["ruleId"], "asan/heap-buffer-overflow");
  EXPECT_EQ(asan["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "targets/vstore/src/graph.cc");
  EXPECT_EQ(asan["locations"][0]["physicalLocation"]["region"]["startLine"], 51);
  EXPECT_EQ(asan["stacks"].size(), 2u) << "access and allocation";
  const json& mismatch = result_for(log, "disk-full-on-append/vstore/debug");
  EXPECT_EQ(mismatch["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "scenarios/io-errors/disk-full-on-append.toml");
  EXPECT_EQ(mismatch["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"], "SRCROOT");
  EXPECT_FALSE(mismatch["partialFingerprints"].contains("crashSignature/v1")) << "no crash, no signature";
  EXPECT_EQ(mismatch["partialFingerprints"]["crashgateCell/v1"], "disk-full-on-append/vstore/debug");
}

TEST(ReportSarif, AHarnessErrorIsAToolNotificationNotAResult) {
  json log = sarif_of(testing::report_results());
  const json& invocation = log["runs"][0]["invocations"][0];
  EXPECT_EQ(invocation["executionSuccessful"], false);
  EXPECT_EQ(invocation["exitCode"], 1);
  ASSERT_EQ(invocation["toolExecutionNotifications"].size(), 1u);
  EXPECT_THAT(invocation["toolExecutionNotifications"][0]["message"]["text"].get<std::string>(),
              HasSubstr("build it with `ci/build asan`"));
}

TEST(ReportSarif, HostileTextStaysValidUtf8JsonAndReadsBack) {
  std::string text = write_sarif(testing::report_results());
  EXPECT_THAT(text, Not(HasSubstr("\xff")));
  EXPECT_THAT(text, Not(HasSubstr("\x01")));
  json log = json::parse(text);  // nlohmann rejects invalid UTF-8
  const json& mismatch = result_for(log, "disk-full-on-append/vstore/debug");
  EXPECT_THAT(mismatch["message"]["text"].get<std::string>(), HasSubstr("<script>alert('x')</script> & \"quotes\" ]]> \\x01"));
  EXPECT_EQ(sarif_problems(log), "");
}

TEST(ReportSarif, UrisAreEscaped) {
  RunResults results = testing::report_results();
  results.cells[1].attempts[0].outcome.threads[0].frames[1].file = "/src/crashgate/targets/my dir/100%#x.cc";
  json log = sarif_of(results);
  EXPECT_EQ(sarif_problems(log), "");
  EXPECT_EQ(result_for(log, "truncated-vectors-bin/vstore/release[cut=end-1]")["locations"][0]["physicalLocation"]
                      ["artifactLocation"]["uri"],
            "targets/my%20dir/100%25%23x.cc");
}

TEST(ReportSarif, NoCellsIsAValidLogWithNoResults) {
  json log = sarif_of(testing::empty_results());
  EXPECT_EQ(sarif_problems(log), "");
  EXPECT_TRUE(log["runs"][0]["results"].is_array());
  EXPECT_TRUE(log["runs"][0]["results"].empty());
  EXPECT_EQ(log["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

TEST(ReportSarif, FiveHundredFailingCellsStayValidAndSane) {
  ReportInputs inputs;
  inputs.source_root = testing::kReportSourceRoot;
  std::string text = write_sarif(testing::many_failing_results(500), inputs);
  json log = json::parse(text);
  EXPECT_EQ(sarif_problems(log), "");
  EXPECT_EQ(log["runs"][0]["results"].size(), 500u);
  EXPECT_EQ(log["runs"][0]["tool"]["driver"]["rules"].size(), 1u) << "one rule however many cells break it";
  EXPECT_LT(text.size(), 12u << 20) << "500 failing cells with 30-frame stacks";
  RecordProperty("sarif_bytes_500_failing", static_cast<int>(text.size()));
  std::cout << "results.sarif for 500 failing cells: " << text.size() << " bytes\n";
}

}  // namespace
}  // namespace crashgate
