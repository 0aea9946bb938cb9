// FAISS's exceptions as step errors (reports/driver-protocol.md's codes).
//
// FAISS reports every refusal by throwing faiss::FaissException (FAISS_THROW_*),
// and a size it trusts by allocating it (std::bad_alloc, std::length_error).
// The driver catches them at each call into FAISS, so the only way a cell ends
// badly on its own is FAISS itself dying:
//   corrupt             a FaissException while loading or querying a loaded index
//                       (the file said something FAISS refuses, or it read it and
//                       then refused what it read)
//   io                  a FaissException while writing the index (write_index)
//   resource-exhausted  std::bad_alloc, std::length_error (a size taken from the file)
//   unsupported         the index type has no such operation (IndexHNSWFlat has no remove_ids)
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "crashgate/driver_kit.h"

namespace crashgate::faiss_driver {

// Runs `work`, which calls FAISS; an exception it throws becomes a step error:
// a FaissException is `code`, an allocation failure resource-exhausted, any
// other std::exception `code` too. The message is "DOING: what()".
kit::StepResult guarded(std::string_view doing, std::string_view code, const std::function<kit::StepResult()>& work);

}  // namespace crashgate::faiss_driver
