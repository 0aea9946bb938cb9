#include "vstore/record.h"

namespace vstore {

std::string_view metric_name(Metric m) {
  switch (m) {
    case Metric::l2: return "l2";
    case Metric::ip: return "ip";
    case Metric::cosine: return "cosine";
  }
  return "unknown";
}

bool parse_metric(std::string_view name, Metric* out) {
  for (Metric m : {Metric::l2, Metric::ip, Metric::cosine}) {
    if (metric_name(m) == name) {
      *out = m;
      return true;
    }
  }
  return false;
}

}  // namespace vstore
