// hnswlib_load: the input becomes a damaged copy of a small valid hnswlib
// index file (hnswlib 0.6.2's saveIndex format: targets/hnswlib/driver/layout.cc),
// which is loaded as users load one (new HierarchicalNSW(space, path, false,
// max_elements)) and then queried: getDataByLabel for every label the
// template holds, and searchKnn. What hnswlib throws (std::runtime_error,
// std::bad_alloc, ...) is a clean refusal; a signal or a sanitizer report is
// a finding.
//
// Structure-aware, so the fuzzer starts past the header: the template is 24
// elements of dimension 4, M 4 (a level-0 block of 60 bytes: link count,
// 8 links, 4 floats, the label), labels 0, 7, 14, ... 161, label 14 marked
// deleted. The input is:
//
//   byte 0     bit 0: inner product (else L2); bit 1: load with max_elements
//              = 64 (else 0: the file's own)
//   then edits, each an op byte and its operands (missing bytes read as 0):
//     op % 4 == 0  header field: [field % 13][value: 8 bytes LE], written
//                  at that field's offset with its width
//     op % 4 == 1  level-0 block: [element % 25][offset % 60][len % 16 + 1][bytes]
//     op % 4 == 2  link-list section: [offset: 2 bytes LE][len % 16 + 1][bytes]
//     op % 4 == 3  resize the file: [size: 4 bytes LE] % (the size + 64)
//
// hnswlib.h defines non-inline functions: this file is the one translation
// unit of the binary that includes it.
#include <hnswlib/hnswlib.h>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kDim = 4, kElements = 24, kLabelStep = 7, kHeader = 96;
constexpr std::size_t kFieldOffset[13] = {0, 8, 16, 24, 32, 40, 48, 52, 56, 64, 72, 80, 88};
constexpr std::size_t kFieldWidth[13] = {8, 8, 8, 8, 8, 8, 4, 4, 8, 8, 8, 8, 8};

// loadIndex reads a path (hnswlib 0.6.2 has no stream or memory load): a
// file in /dev/shm (memory) when there is one, else /tmp; one per process.
std::string temp_path() {
  const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/hnswlib_load_fuzz-" + std::to_string(::getpid()) + ".bin";
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The template index file's bytes (L2; the ip template differs in no byte
// the format has: the space is not saved, only the vectors).
const std::string& template_bytes() {
  static const std::string bytes = [] {
    hnswlib::L2Space space(kDim);
    hnswlib::HierarchicalNSW<float> index(&space, kElements, 4, 16, 100);
    for (std::size_t i = 0; i < kElements; ++i) {
      float v[kDim] = {float(i), 0.5f, -1.0f, float(i) / 3};
      index.addPoint(v, i * kLabelStep);
    }
    index.markDelete(14);
    std::string path = temp_path();
    index.saveIndex(path);
    std::string b = read_whole(path);
    std::remove(path.c_str());
    if (b.size() < kHeader) std::abort();
    return b;
  }();
  return bytes;
}

struct Input {
  const std::uint8_t* data;
  std::size_t size, at = 0;
  bool done() const { return at >= size; }
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  std::uint64_t le(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= std::uint64_t{byte()} << (8 * i);
    return v;
  }
};

void put(std::string& file, std::size_t offset, const std::uint8_t* bytes, std::size_t n) {
  if (offset >= file.size()) return;
  for (std::size_t i = 0; i < n && offset + i < file.size(); ++i) file[offset + i] = static_cast<char>(bytes[i]);
}

std::uint64_t le_of(const std::string& file, std::size_t offset) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8 && offset + i < file.size(); ++i) v |= std::uint64_t{static_cast<unsigned char>(file[offset + i])} << (8 * i);
  return v;
}

std::string apply_edits(Input& in) {
  std::string file = template_bytes();
  const std::size_t block = le_of(file, 24), links = kHeader + kElements * block;
  while (!in.done()) {
    std::uint8_t op = in.byte();
    switch (op % 4) {
      case 0: {
        std::size_t f = in.byte() % 13;
        std::uint8_t value[8];
        for (std::uint8_t& b : value) b = in.byte();
        put(file, kFieldOffset[f], value, kFieldWidth[f]);
        break;
      }
      case 1: {
        std::size_t element = in.byte() % (kElements + 1), offset = in.byte() % block, len = in.byte() % 16 + 1;
        std::uint8_t bytes[16];
        for (std::size_t i = 0; i < len; ++i) bytes[i] = in.byte();
        put(file, kHeader + element * block + offset, bytes, len);
        break;
      }
      case 2: {
        std::size_t offset = in.le(2), len = in.byte() % 16 + 1;
        std::uint8_t bytes[16];
        for (std::size_t i = 0; i < len; ++i) bytes[i] = in.byte();
        put(file, links + offset, bytes, len);
        break;
      }
      default:
        file.resize(in.le(4) % (file.size() + 64), '\0');
        break;
    }
  }
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in{data, size};
  std::uint8_t flags = in.byte();
  std::string file = apply_edits(in);
  static const std::string path = temp_path();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
  }
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  if (flags & 1) space = std::make_unique<hnswlib::InnerProductSpace>(kDim);
  else space = std::make_unique<hnswlib::L2Space>(kDim);
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
  try {
    index.reset(new hnswlib::HierarchicalNSW<float>(space.get(), path, false, (flags & 2) ? 64 : 0));
  } catch (const std::exception&) {
    return 0;  // refused at load: clean
  }
  for (std::size_t i = 0; i < kElements; ++i) {
    try {
      std::vector<float> v = index->getDataByLabel<float>(i * kLabelStep);
      volatile float first = v.empty() ? 0.0f : v[0];
      (void)first;
    } catch (const std::exception&) {
    }
  }
  const float queries[3][kDim] = {{3.0f, 0.5f, -1.0f, 1.0f}, {-20.0f, 4.0f, 0.0f, 9.0f}, {100.0f, -0.5f, 1.0f, 30.0f}};
  for (const auto& q : queries) {
    try {
      index->setEf(16);
      (void)index->searchKnn(q, 5);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
