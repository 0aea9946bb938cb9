#include "vstore/status.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace vstore {
namespace {

TEST(Status, CodeNamesRoundTripThroughParse) {
  for (Code c : {Code::ok, Code::corrupt, Code::io, Code::busy, Code::resource_exhausted,
                 Code::invalid_argument, Code::not_found}) {
    Code parsed;
    ASSERT_TRUE(parse_code(code_name(c), &parsed)) << code_name(c);
    EXPECT_EQ(parsed, c);
    EXPECT_FALSE(code_doc(c).empty());
  }
  Code unused;
  EXPECT_FALSE(parse_code("corrupted", &unused));
}

TEST(Status, ExitStatusesMatchTheToolContract) {
  EXPECT_EQ(code_exit_status(Code::ok), 0);
  EXPECT_EQ(code_exit_status(Code::not_found), 1);
  EXPECT_EQ(code_exit_status(Code::corrupt), 3);
  EXPECT_EQ(code_exit_status(Code::io), 4);
  EXPECT_EQ(code_exit_status(Code::busy), 5);
  EXPECT_EQ(code_exit_status(Code::resource_exhausted), 6);
  EXPECT_EQ(code_exit_status(Code::invalid_argument), 7);
}

TEST(Status, ErrnoIsClassifiedInOnePlace) {
  EXPECT_EQ(status_from_errno(ENOSPC, "write x").code(), Code::io);
  EXPECT_EQ(status_from_errno(EIO, "write x").code(), Code::io);
  EXPECT_EQ(status_from_errno(EMFILE, "open x").code(), Code::resource_exhausted);
  EXPECT_EQ(status_from_errno(ENOMEM, "mmap x").code(), Code::resource_exhausted);
  EXPECT_EQ(status_from_errno(ENOENT, "open x").code(), Code::not_found);
  EXPECT_EQ(status_from_errno(EWOULDBLOCK, "lock x").code(), Code::busy);
  Status s = status_from_errno(ENOSPC, "write vectors-000001.bin");
  EXPECT_NE(s.message().find("write vectors-000001.bin"), std::string::npos) << s.message();
  EXPECT_EQ(s.to_string().rfind("io: ", 0), 0u) << s.to_string();
}

TEST(Result, CarriesAValueOrAnError) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 42);
  Result<int> bad = Status::Corrupt("x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::corrupt);
}

}  // namespace
}  // namespace vstore
