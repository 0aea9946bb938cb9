#include "errors.h"

#include <faiss/impl/FaissException.h>

#include <new>
#include <stdexcept>

#include <fmt/format.h>

namespace crashgate::faiss_driver {

kit::StepResult guarded(std::string_view doing, std::string_view code, const std::function<kit::StepResult()>& work) {
  try {
    return work();
  } catch (const faiss::FaissException& e) {
    // what() is "Error in FUNCTION at FILE:LINE: MESSAGE": one line is enough.
    std::string what = e.what();
    for (char& c : what)
      if (c == '\n') c = ' ';
    return kit::StepResult::error(std::string(code), fmt::format("{}: FaissException: {}", doing, what));
  } catch (const std::bad_alloc& e) {
    return kit::StepResult::error("resource-exhausted", fmt::format("{}: {} (a size FAISS took from the file?)", doing, e.what()));
  } catch (const std::length_error& e) {
    return kit::StepResult::error("resource-exhausted", fmt::format("{}: std::length_error: {}", doing, e.what()));
  } catch (const std::exception& e) {
    return kit::StepResult::error(std::string(code), fmt::format("{}: {}", doing, e.what()));
  }
}

}  // namespace crashgate::faiss_driver
