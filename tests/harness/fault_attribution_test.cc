// Fault attribution against synthetic /proc/PID/maps snapshots.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "crashgate/fault_attribution.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;

constexpr const char* kMaps =
    "55d0a0000000-55d0a0001000 r--p 00000000 fe:00 101 /opt/app/bin\n"
    "55d0a0001000-55d0a0005000 r-xp 00001000 fe:00 101 /opt/app/bin\n"
    "55d0a1000000-55d0a1021000 rw-p 00000000 00:00 0                          [heap]\n"
    "7f0000000000-7f0000004000 r--s 00000000 fe:00 202 /data/store/vectors.bin\n"
    "7f0000004000-7f0000006000 rw-s 00002000 fe:00 203 /data/store/index.bin (deleted)\n"
    "7f1000000000-7f1000001000 ---p 00000000 00:00 0 \n"
    "7f1000001000-7f1000201000 rw-p 00000000 00:00 0 \n"
    "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]\n";

FaultContext fault(int signo, int code, std::uint64_t address) {
  FaultContext ctx;
  ctx.signo = signo;
  ctx.si_code = code;
  ctx.address = address;
  ctx.file_size = [](const MapEntry& m) -> std::optional<std::uint64_t> {
    if (m.path == "/data/store/vectors.bin") return 4096;
    return 65536;
  };
  return ctx;
}

TEST(ParseMaps, ReadsEveryFieldIncludingPathsWithSpaces) {
  auto maps = parse_maps(kMaps);
  ASSERT_EQ(maps.size(), 8u);
  EXPECT_EQ(maps[3].start, 0x7f0000000000u);
  EXPECT_EQ(maps[3].end, 0x7f0000004000u);
  EXPECT_EQ(maps[3].perms, "r--s");
  EXPECT_EQ(maps[3].inode, 202u);
  EXPECT_EQ(maps[3].path, "/data/store/vectors.bin");
  EXPECT_TRUE(maps[3].file_backed());
  EXPECT_EQ(maps[4].offset, 0x2000u);
  EXPECT_EQ(maps[4].path, "/data/store/index.bin (deleted)");
  EXPECT_FALSE(maps[2].file_backed());
  EXPECT_TRUE(parse_maps("garbage line\n\n").empty());
}

TEST(AttributeFault, SigbusPastTheEndOfAMappedFileSaysOffsetAndSize) {
  auto maps = parse_maps(kMaps);
  Attribution a = attribute_fault(fault(SIGBUS, BUS_ADRERR, 0x7f0000003000), maps);
  EXPECT_EQ(a.file, "/data/store/vectors.bin");
  EXPECT_EQ(a.file_offset, 12288u);
  EXPECT_EQ(a.file_size, 4096u);
  EXPECT_TRUE(a.past_eof);
  EXPECT_EQ(a.access, "read");  // a read-only mapping lets only reads reach SIGBUS
  EXPECT_EQ(a.description,
            "read at offset 12,288 of vectors.bin, which is 4,096 bytes long (the page lies past the end of the file)");
}

TEST(AttributeFault, ThePartialLastPageIsNotPastTheEnd) {
  auto maps = parse_maps(kMaps);
  auto ctx = fault(SIGBUS, BUS_ADRERR, 0x7f0000000ff0);
  Attribution a = attribute_fault(ctx, maps);
  EXPECT_FALSE(a.past_eof);
}

TEST(AttributeFault, OffsetsCountFromTheMappingsFileOffset) {
  auto maps = parse_maps(kMaps);
  Attribution a = attribute_fault(fault(SIGSEGV, SEGV_ACCERR, 0x7f0000004010), maps);
  EXPECT_EQ(a.file_offset, 0x2010u);
}

TEST(AttributeFault, AGeneralProtectionFaultIsNotANullPointer) {
  Attribution a = attribute_fault(fault(SIGSEGV, SI_KERNEL, 0), {});
  EXPECT_FALSE(a.null_page);
  EXPECT_THAT(a.description, ::testing::HasSubstr("a general-protection fault: the kernel gives no address"));
}

TEST(AttributeFault, SmallAddressesAreTheNullPage) {
  auto maps = parse_maps(kMaps);
  Attribution a = attribute_fault(fault(SIGSEGV, SEGV_MAPERR, 0x18), maps);
  EXPECT_TRUE(a.null_page);
  EXPECT_THAT(a.description, HasSubstr("null pointer plus 24"));
  EXPECT_TRUE(attribute_fault(fault(SIGSEGV, SEGV_MAPERR, 0), maps).null_page);
}

TEST(AttributeFault, AWriteDeniedOnAReadableMappingIsAWrite) {
  auto maps = parse_maps(kMaps);
  Attribution a = attribute_fault(fault(SIGSEGV, SEGV_ACCERR, 0x55d0a0001010), maps);
  EXPECT_EQ(a.access, "write");
  EXPECT_EQ(a.file, "/opt/app/bin");
}

TEST(AttributeFault, AFaultInAThreadsGuardIsAStackOverflowWithItsSize) {
  auto maps = parse_maps(kMaps);
  auto ctx = fault(SIGSEGV, SEGV_ACCERR, 0x7f1000000f80);
  ctx.stack_pointer = 0x7f1000001010;
  ctx.tid = 42;
  ctx.thread_name = "filter-worker";
  Attribution a = attribute_fault(ctx, maps);
  EXPECT_TRUE(a.stack_guard);
  EXPECT_EQ(a.stack_thread, 42);
  EXPECT_EQ(a.thread_stack_size, 2u * 1024 * 1024);
  EXPECT_THAT(a.description, HasSubstr("stack guard of thread 42 'filter-worker' (stack size 2 MiB)"));
}

TEST(AttributeFault, AStackPointerAlreadyInTheGuardStillFindsTheStack) {
  auto maps = parse_maps(kMaps);
  auto ctx = fault(SIGSEGV, SEGV_ACCERR, 0x7f1000000ff8);
  ctx.stack_pointer = 0x7f1000000ff8;
  EXPECT_TRUE(attribute_fault(ctx, maps).stack_guard);
}

TEST(AttributeFault, MainStackOverflowBelowTheStackUsesTheRlimit) {
  auto maps = parse_maps(kMaps);
  auto ctx = fault(SIGSEGV, SEGV_MAPERR, 0x7ffbfffff000);
  ctx.stack_pointer = 0x7ffbfffff010;
  ctx.main_thread = true;
  ctx.main_stack_limit = 8u * 1024 * 1024;
  Attribution a = attribute_fault(ctx, maps);
  EXPECT_TRUE(a.stack_guard);
  EXPECT_EQ(a.thread_stack_size, 8u * 1024 * 1024);
}

TEST(AttributeFault, AWildPointerFarFromTheStackIsNotAnOverflow) {
  auto maps = parse_maps(kMaps);
  auto ctx = fault(SIGSEGV, SEGV_MAPERR, 0x100000000);
  ctx.stack_pointer = 0x7f1000100000;
  Attribution a = attribute_fault(ctx, maps);
  EXPECT_FALSE(a.stack_guard);
  EXPECT_THAT(a.description, HasSubstr("which no mapping holds"));
}

}  // namespace
}  // namespace crashgate
