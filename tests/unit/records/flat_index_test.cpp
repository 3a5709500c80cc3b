// FlatIndex: values come back under their hash, in insertion order, with colliding hashes and
// wrap-around at the end of the table.
#include <cstdint>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "records/flat_index.hpp"

namespace {

using records::FlatIndex;
using testing::ElementsAre;
using testing::IsEmpty;

std::vector<std::uint32_t> values_under(const FlatIndex& index, std::uint64_t hash) {
    std::vector<std::uint32_t> out;
    index.for_each(hash, [&](std::uint32_t value) {
        out.push_back(value);
        return true;
    });
    return out;
}

TEST(FlatIndex, EmptyIndexFindsNothing) {
    const FlatIndex index;
    EXPECT_THAT(values_under(index, 42), IsEmpty());
    FlatIndex sized;
    sized.reset(10);
    EXPECT_THAT(values_under(sized, 42), IsEmpty());
}

TEST(FlatIndex, SameHashKeepsInsertionOrder) {
    FlatIndex index;
    index.reset(4);
    index.insert(7, 0);
    index.insert(7, 3);
    index.insert(9, 1);
    index.insert(7, 2);
    EXPECT_THAT(values_under(index, 7), ElementsAre(0, 3, 2));
    EXPECT_THAT(values_under(index, 9), ElementsAre(1));
}

TEST(FlatIndex, AFullRunOfKeysWrapsAroundAndStopsEarlyWhenAsked) {
    FlatIndex index;
    index.reset(1002);
    for (std::uint32_t value = 0; value < 1000; ++value) {
        index.insert(value * 0x9e3779b97f4a7c15ULL, value);
    }
    for (std::uint32_t value = 0; value < 1000; ++value) {
        const auto found = values_under(index, value * 0x9e3779b97f4a7c15ULL);
        // A tag may admit another value (the caller compares keys); this one is never missed.
        EXPECT_THAT(found, testing::Contains(value));
    }
    int visits = 0;
    index.insert(5, 77);
    index.insert(5, 78);
    EXPECT_FALSE(index.for_each(5, [&](std::uint32_t) { return ++visits < 1; }));
    EXPECT_EQ(visits, 1);
    EXPECT_LE(index.memory_bytes(), 1504U * 5 + 16);
}

} // namespace
