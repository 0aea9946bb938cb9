// calls.jsonl's line for one recorded call (read back by read_fs_calls).
#pragma once

#include <string>

#include "crashgate/fs_recording.h"

namespace crashgate::record {

std::string fs_call_line(const FsCall& call);

}  // namespace crashgate::record
