#include "index_walk.h"

#include <cstring>

namespace crashgate::faiss_driver {

namespace {

class Walker {
 public:
  explicit Walker(std::string_view b) : b_(b) {}

  Walk walk() {
    index("");
    w_.end = pos_;
    return std::move(w_);
  }

 private:
  bool fail(std::string why) {
    if (w_.stopped.empty()) w_.stopped = std::move(why);
    return false;
  }
  // A field of `width` bytes at the current position; false (and the walk stops) past the end.
  bool take(const std::string& name, std::uint64_t width, std::uint64_t* value = nullptr) {
    if (!w_.stopped.empty()) return false;
    if (pos_ + width > b_.size() || pos_ + width < pos_) return fail(name + " is past the end of the file");
    w_.fields.push_back({name, pos_, width});
    if (value) {
      *value = 0;
      std::memcpy(value, b_.data() + pos_, width <= 8 ? width : 8);
    }
    pos_ += width;
    return true;
  }
  // A u64 count and `count * elem` bytes of data.
  bool vec(const std::string& name, std::uint64_t elem, std::uint64_t* count = nullptr) {
    std::uint64_t n = 0;
    if (!take(name + ".size", 8, &n)) return false;
    if (count) *count = n;
    if (n >= (std::uint64_t{1} << 40)) return fail(name + ".size is 2^40 or more (read_index refuses it)");
    return take(name + ".data", n * elem);
  }
  bool header(const std::string& p, std::uint32_t* metric) {
    std::uint64_t m = 0;
    bool ok = take(p + "d", 4) && take(p + "ntotal", 8) && take(p + "dummy1", 8) && take(p + "dummy2", 8) &&
              take(p + "is_trained", 1) && take(p + "metric_type", 4, &m);
    if (ok && m > 1) ok = take(p + "metric_arg", 4);
    if (metric) *metric = static_cast<std::uint32_t>(m);
    return ok;
  }
  bool index(const std::string& p) {
    std::uint64_t h = 0;
    if (!take(p + "fourcc", 4, &h)) return false;
    auto is = [&](const char(&s)[5]) { return h == fourcc_of(s); };
    if (is("IxM2") || is("IxMp")) {
      std::uint64_t at = pos_;
      if (!header(p, nullptr)) return false;
      // The wrapped index: named after its kind.
      std::uint64_t inner = 0;
      if (pos_ + 4 <= b_.size()) std::memcpy(&inner, b_.data() + pos_, 4);
      std::string part = inner == fourcc_of("IHNf") ? "hnsw." : inner == fourcc_of("IwFl") ? "ivf." : "flat.";
      (void)at;
      return index(p + part) && vec(p + "id_map", 8);
    }
    if (is("IxF2") || is("IxFI") || is("IxFl")) return header(p, nullptr) && vec(p + "codes", 4);
    if (is("IHNf")) {
      return header(p, nullptr) && vec(p + "assign_probas", 8) && vec(p + "cum_nneighbor_per_level", 4) &&
             vec(p + "levels", 4) && vec(p + "offsets", 8) && vec(p + "neighbors", 4) && take(p + "entry_point", 4) &&
             take(p + "max_level", 4) && take(p + "efConstruction", 4) && take(p + "efSearch", 4) && take(p + "upper_beam", 4) &&
             index(p + "storage.");
    }
    if (is("IwFl")) {
      std::uint64_t type = 0, nlist = 0, code_size = 0, list_type = 0, nsizes = 0;
      if (!(header(p, nullptr) && take(p + "nlist", 8) && take(p + "nprobe", 8) && index(p + "quantizer.") &&
            take(p + "direct_map.type", 1, &type) && vec(p + "direct_map.array", 8)))
        return false;
      if (type == 2 && !vec(p + "direct_map.hashtable", 16)) return false;
      std::uint64_t il = 0;
      if (!take(p + "invlists.fourcc", 4, &il)) return false;
      if (il != fourcc_of("ilar")) return il == fourcc_of("il00") ? true : fail("invlists.fourcc is not ilar");
      if (!(take(p + "invlists.nlist", 8, &nlist) && take(p + "invlists.code_size", 8, &code_size) &&
            take(p + "invlists.list_type", 4, &list_type)))
        return false;
      std::uint64_t sizes_at = pos_ + 8;
      if (!vec(p + "invlists.sizes", 8, &nsizes)) return false;
      // The lists' data: per non-empty list, its codes and its ids.
      std::uint64_t total = 0;
      auto size_at = [&](std::uint64_t i) {
        std::uint64_t v = 0;
        std::memcpy(&v, b_.data() + sizes_at + 8 * i, 8);
        return v;
      };
      bool sparse = list_type == fourcc_of("sprs");
      if (!sparse && list_type != fourcc_of("full")) return fail("invlists.list_type is neither full nor sprs");
      for (std::uint64_t i = sparse ? 1 : 0; i < nsizes; i += sparse ? 2 : 1) {
        std::uint64_t n = size_at(i);
        if (n > (std::uint64_t{1} << 40) || code_size > (std::uint64_t{1} << 24)) return fail("a list's size is past reason");
        total += n * (code_size + 8);
      }
      return take(p + "invlists.data", total);
    }
    return fail(p + "fourcc is not an index this walk knows (IxM2, IxMp, IxF2, IxFI, IxFl, IHNf, IwFl)");
  }

  std::string_view b_;
  std::uint64_t pos_ = 0;
  Walk w_;
};

}  // namespace

std::uint32_t fourcc_of(const char (&s)[5]) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) | static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16 | static_cast<std::uint32_t>(static_cast<unsigned char>(s[3])) << 24;
}

const WalkField* Walk::find(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

Walk walk_index(std::string_view bytes) { return Walker(bytes).walk(); }

}  // namespace crashgate::faiss_driver
