// The bounds the on-disk format's readers keep, each at its edge: the most
// attributes a record may have, an attribute key one byte longer than its
// blob, a MANIFEST listing more pending removals than it has slots, and a
// store created in a directory something else already uses. Each of these
// was a generated mutant (crashgate mutate) that the gate let through.
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/format.h"
#include "storage/manifest.h"
#include "vstore/env.h"
#include "vstore/store.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

using internal::check_attributes;
using internal::decode_attributes;
using internal::encode_attributes;
using internal::find_attribute;
using internal::kMaxAttributes;
using testing::make_records;
using testing::ScratchDir;

std::vector<Attribute> numbered_attributes(uint32_t n) {
  std::vector<Attribute> attrs;
  for (uint32_t i = 0; i < n; ++i) attrs.push_back({"k" + std::to_string(i), "v" + std::to_string(i)});
  return attrs;
}

// A store of 4 dimensions without an index: these tests are about the files.
std::unique_ptr<Store> small_store(const std::string& dir) {
  CreateOptions o;
  o.dim = 4;
  o.index.enabled = false;
  Result<std::unique_ptr<Store>> created = Store::create(dir, o);
  EXPECT_TRUE(created.ok()) << created.status().to_string();
  return created.ok() ? std::move(created).value() : nullptr;
}

TEST(FormatBounds, ARecordWithTheMostAttributesAllowedDecodesAndOneMoreIsRefused) {
  std::vector<Attribute> most = numbered_attributes(kMaxAttributes);
  ASSERT_TRUE(check_attributes(most).ok());
  std::string blob = encode_attributes(most);
  std::vector<Attribute> back;
  Status s = decode_attributes(reinterpret_cast<const uint8_t*>(blob.data()), static_cast<uint32_t>(blob.size()), &back, "test");
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(back, most);

  std::vector<Attribute> too_many = numbered_attributes(kMaxAttributes + 1);
  EXPECT_EQ(check_attributes(too_many).code(), Code::invalid_argument);
  std::string over = encode_attributes(too_many);
  Status refused = decode_attributes(reinterpret_cast<const uint8_t*>(over.data()), static_cast<uint32_t>(over.size()), &back, "test");
  EXPECT_EQ(refused.code(), Code::corrupt) << refused.to_string();
}

TEST(FormatBounds, AStoreKeepsAndReturnsARecordWithTheMostAttributesAllowed) {
  ScratchDir d;
  std::unique_ptr<Store> s = small_store(d / "s");
  ASSERT_TRUE(s);
  Record r = make_records(7, 1, 4).front();
  r.attributes = numbered_attributes(kMaxAttributes);
  ASSERT_TRUE(s->add({r}).ok());
  ASSERT_TRUE(s->sync().ok());
  Result<Record> got = s->get(7);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->attributes, r.attributes);
}

// One attribute whose key length is one byte more than the blob holds. The
// byte just past the blob completes the key being looked for, so a reader
// that reads past its blob finds it.
TEST(FormatBounds, AKeyLengthOneBytePastTheBlobIsNeverReadPastIt) {
  std::string blob;
  auto put = [&](uint32_t v) { blob.append(reinterpret_cast<const char*>(&v), 4); };
  put(1);  // count
  put(3);  // key length: 3, but only "ab" is in the blob
  put(0);  // value length
  blob += "ab";
  std::string buffer = blob + "x";  // what follows the blob in memory
  const auto* bytes = reinterpret_cast<const uint8_t*>(buffer.data());
  const auto len = static_cast<uint32_t>(blob.size());
  EXPECT_FALSE(find_attribute(bytes, len, "abx").has_value()) << "the key's third byte is past the blob";
  EXPECT_FALSE(find_attribute(bytes, len, "ab").has_value());
  std::vector<Attribute> out;
  EXPECT_EQ(decode_attributes(bytes, len, &out, "test").code(), Code::corrupt);
}

// A MANIFEST whose header is consistent (its checksums agree, its size is
// what its count says) but which lists more pending removals than slots.
TEST(FormatBounds, AManifestListingMorePendingRemovalsThanSlotsIsRefusedNamingTheField) {
  ScratchDir d;
  {
    std::unique_ptr<Store> s = small_store(d / "s");
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->add(make_records(0, 2, 4)).ok());
    ASSERT_TRUE(s->close().ok());
  }
  Env* env = default_env();
  Result<internal::Manifest> m = internal::read_manifest(env, d / "s");
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  ASSERT_EQ(m->slot_count, 2u);
  internal::Manifest forged = *m;
  forged.pending_removes = {0, 1, 1};  // three pending removals of two slots
  ASSERT_TRUE(internal::write_manifest(env, d / "s", forged).ok());
  Result<internal::Manifest> back = internal::read_manifest(env, d / "s");
  ASSERT_FALSE(back.ok()) << "a MANIFEST with 3 pending removals of 2 slots was read";
  EXPECT_EQ(back.status().code(), Code::corrupt);
  EXPECT_NE(back.status().message().find("pending_removes"), std::string::npos) << back.status().to_string();
}

TEST(FormatBounds, CreateRefusesADirectoryThatHoldsAnythingElse) {
  ScratchDir d;
  std::filesystem::create_directories(d / "s");
  testing::write_file(d / "s/notes.txt", "someone else's file\n");
  CreateOptions o;
  o.dim = 4;
  Status s = Store::create(d / "s", o).status();
  EXPECT_EQ(s.code(), Code::invalid_argument) << s.to_string();
  EXPECT_NE(s.message().find("not empty"), std::string::npos) << s.to_string();
  EXPECT_EQ(testing::read_file(d / "s/notes.txt"), "someone else's file\n") << "nothing stored is lost";
}

}  // namespace
}  // namespace vstore
