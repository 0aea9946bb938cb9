// report.html is assembled from these parts (html_report.cc: the page, the
// grids and run times; html_cells.cc: each failing cell's diagnosis). Every
// string from the results goes through markup_escape; anchors are numbers.
#pragma once

#include <map>
#include <string>

#include "crashgate/report_writers.h"

namespace crashgate::report {

// "v-fail": the class that colours a verdict (the stylesheet's only colour rule for it).
std::string verdict_class(Verdict verdict);

// The anchor of a cell's diagnosis: "cell-<index in results.cells>".
std::string cell_anchor(std::size_t index);

// The origins that have an excerpt, numbered in order of first use: origin -> "field-report-<n>".
using FieldReportAnchors = std::map<std::string, std::string>;

// <section class="diagnosis ..."> for one cell that did not pass.
void append_cell_diagnosis(std::string& out, const CellResult& cell, std::size_t index, const ReportInputs& inputs,
                           const FieldReportAnchors& field_reports);

}  // namespace crashgate::report
