// Where the detection matrix's verdict lives: RUN_DIR/matrix.json, schema
// crashgate.matrix/1 (reports/matrix-schema.md). Written by `crashgate matrix`
// (detection_matrix.h), read by the gate and the report writers.
#pragma once

namespace crashgate {

inline constexpr const char* kMatrixSchema = "crashgate.matrix/1";
inline constexpr const char* kMatrixFile = "matrix.json";

}  // namespace crashgate
