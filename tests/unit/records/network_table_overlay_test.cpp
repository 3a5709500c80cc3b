// NetworkTable::build_overlay: a full build minus removed containers plus added lines answers
// exactly as a full build of the file that is left, or is refused.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "network_files.hpp"
#include "records/network_table.hpp"

namespace {

using records::NetworkTable;
using records_test::ip;
using records_test::network_file;
using testing::ElementsAre;
using testing::IsEmpty;

std::shared_ptr<const NetworkTable> full_build(std::string_view text) {
    const config::NetworkFile file = network_file("podman", text);
    const std::array files{&file};
    return NetworkTable::build(files);
}

std::vector<std::string> addresses_of(const NetworkTable& table, std::string_view name) {
    std::vector<base::IpAddress> out;
    table.append_addresses(name, 0, out);
    std::vector<std::string> text;
    for (const auto& address : out) {
        text.push_back(address.to_string());
    }
    return text;
}

std::vector<std::string> names_of(const NetworkTable& table, std::string_view address) {
    std::vector<std::string_view> out;
    table.append_names(ip(address), out);
    return {out.begin(), out.end()};
}

std::vector<std::string> all_names(const NetworkTable& table) {
    std::vector<std::string> names;
    table.for_each_name([&](std::string_view name) { names.emplace_back(name); });
    return names;
}

std::vector<std::uint64_t> sorted_keys(const NetworkTable& table) {
    std::vector<std::uint64_t> keys;
    table.append_container_keys(keys);
    std::sort(keys.begin(), keys.end());
    return keys;
}

constexpr std::string_view kRoot = "10.89.0.1\n"
                                   "a1 10.89.0.2  app,a1 127.0.0.53\n"
                                   "b1 10.89.0.3 fd00::3 db,shared,b1\n"
                                   "c1 10.89.0.4  web,shared,c1\n";

TEST(NetworkTableOverlay, RemovedContainersAnswerNothingAnywhere) {
    const auto root = full_build(kRoot);
    ASSERT_TRUE(root->can_carry_overlay());
    const config::NetworkFile added = network_file("podman", "10.89.0.1\n");
    const auto overlay = NetworkTable::build_overlay(root, added, {records::container_key("b1")});
    ASSERT_TRUE(overlay);
    EXPECT_EQ(overlay->base(), root);
    EXPECT_THAT(addresses_of(*overlay, "db"), IsEmpty());
    EXPECT_THAT(addresses_of(*overlay, "shared"), ElementsAre("10.89.0.4"));
    EXPECT_THAT(names_of(*overlay, "10.89.0.3"), IsEmpty());
    EXPECT_THAT(names_of(*overlay, "fd00::3"), IsEmpty());
    EXPECT_FALSE(overlay->holds(ip("10.89.0.3")));
    EXPECT_TRUE(overlay->holds(ip("10.89.0.2")));
    EXPECT_FALSE(overlay->has_container(records::container_key("b1")));
    EXPECT_TRUE(overlay->has_container(records::container_key("c1")));
    EXPECT_EQ(overlay->entry_count(), 2U);
    EXPECT_THAT(all_names(*overlay), ElementsAre("a1", "app", "c1", "shared", "web"));
    EXPECT_TRUE(overlay->dns_servers_of(ip("10.89.0.2")).found);
    EXPECT_FALSE(overlay->dns_servers_of(ip("10.89.0.3")).found);
    // The base is untouched: queries in flight on the old store still see b1.
    EXPECT_THAT(addresses_of(*root, "db"), ElementsAre("10.89.0.3", "fd00::3"));
}

TEST(NetworkTableOverlay, ARemovedContainersAddressAndNameMayBeTakenByAnAddedLine) {
    const auto root = full_build(kRoot);
    // db recreated: a new ID on the old address and name, as netavark's IPAM may hand it out.
    const config::NetworkFile added = network_file("podman", "10.89.0.1\nb2 10.89.0.3  db,b2\n");
    const auto overlay = NetworkTable::build_overlay(root, added, {records::container_key("b1")});
    ASSERT_TRUE(overlay);
    EXPECT_THAT(addresses_of(*overlay, "db"), ElementsAre("10.89.0.3"));
    EXPECT_THAT(names_of(*overlay, "10.89.0.3"), ElementsAre("db", "b2"));
    EXPECT_THAT(addresses_of(*overlay, "b1"), IsEmpty());
}

struct RefusedCase {
    const char* what;
    std::string_view added;
    std::vector<std::string> removed_ids;
};

class OverlayRefused : public testing::TestWithParam<RefusedCase> {};

TEST_P(OverlayRefused, OnlyAFullBuildGetsItRight) {
    const auto root = full_build(kRoot);
    const config::NetworkFile added = network_file("podman", GetParam().added);
    std::vector<std::uint64_t> removed;
    for (const auto& id : GetParam().removed_ids) {
        removed.push_back(records::container_key(id));
    }
    EXPECT_FALSE(NetworkTable::build_overlay(root, added, removed)) << GetParam().what;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OverlayRefused,
    testing::Values(
        RefusedCase{"a removed key the base does not hold", "10.89.0.1\n", {"zz"}},
        RefusedCase{"a key removed twice", "10.89.0.1\n", {"b1", "b1"}},
        RefusedCase{"same ID as a line still there", "10.89.0.1\na1 10.89.0.9  x\n", {}},
        RefusedCase{"address of a line still there", "10.89.0.1\nd1 10.89.0.4  x\n", {"b1"}},
        RefusedCase{"first name of a line still there", "10.89.0.1\nd1 10.89.0.9  web\n", {}}),
    [](const testing::TestParamInfo<RefusedCase>& param) {
        return "case" + std::to_string(param.index);
    });

TEST(NetworkTableOverlay, ABaseWithStaleLinesCarriesChangesThatKeepOffThem) {
    // a1's address was taken by a2: a1 is stale, and both lines are entangled.
    const auto stale =
        full_build("10.89.0.1\na1 10.89.0.2  app,a1\nb1 10.89.0.3  db,b1\na2 10.89.0.2  web,a2\n");
    ASSERT_EQ(stale->findings().size(), 1U);
    ASSERT_TRUE(stale->can_carry_overlay());
    const auto overlay_of = [&](std::string_view added_lines, std::vector<std::string> removed) {
        const config::NetworkFile added =
            network_file("podman", "10.89.0.1\n" + std::string(added_lines));
        std::vector<std::uint64_t> keys;
        for (const auto& id : removed) {
            keys.push_back(records::container_key(id));
        }
        return NetworkTable::build_overlay(stale, added, keys);
    };
    EXPECT_FALSE(overlay_of("", {"a2"})) << "a1 would serve again";
    EXPECT_FALSE(overlay_of("c1 10.89.0.2  c\n", {})) << "the stale line's address";
    EXPECT_FALSE(overlay_of("c1 10.89.0.9  app\n", {})) << "the stale line's first name";
    EXPECT_FALSE(overlay_of("a1 10.89.0.9  x\n", {})) << "the stale line's ID";
    const auto overlay = overlay_of("c1 10.89.0.9  cache\n", {"b1"});
    ASSERT_TRUE(overlay);
    EXPECT_THAT(addresses_of(*overlay, "cache"), ElementsAre("10.89.0.9"));
    EXPECT_THAT(addresses_of(*overlay, "db"), IsEmpty());
    EXPECT_THAT(addresses_of(*overlay, "app"), IsEmpty());
    ASSERT_EQ(overlay->findings().size(), 1U);
    EXPECT_EQ(overlay->findings()[0].container_id, "a1");
    EXPECT_FALSE(overlay->can_carry_overlay()) << "an overlay is not a base";
    // Lines without an ID tell themselves from no other: such a clash takes full builds.
    const auto no_ids = full_build("10.89.0.1\n 10.89.0.2  app\n 10.89.0.2  web\n");
    EXPECT_FALSE(no_ids->can_carry_overlay());
}

TEST(NetworkTableOverlay, CarriedFindingsAreRenumberedWhereTheirLinesAreNow) {
    const auto stale = full_build("10.89.0.1\nb1 10.89.0.3  db,b1\na1 10.89.0.2  app,a1\n"
                                  "c1 10.89.0.4  web,c1\na2 10.89.0.2  app2,a2\n");
    ASSERT_EQ(stale->findings().size(), 1U);
    EXPECT_EQ(stale->findings()[0].line, 3);
    EXPECT_THAT(stale->findings()[0].reason, testing::HasSubstr("(line 5)"));
    const config::NetworkFile none = network_file("podman", "10.89.0.1\n");
    const std::array moves{NetworkTable::LineMove{3, 2}, NetworkTable::LineMove{5, 3}};
    const auto overlay = NetworkTable::build_overlay(
        stale, none, {records::container_key("b1"), records::container_key("c1")}, moves);
    ASSERT_TRUE(overlay);
    ASSERT_EQ(overlay->findings().size(), 1U);
    EXPECT_EQ(overlay->findings()[0].line, 2);
    EXPECT_EQ(overlay->findings()[0].newer_line, 3);
    EXPECT_THAT(overlay->findings()[0].reason, testing::HasSubstr("(line 3)"));
    EXPECT_EQ(stale->findings()[0].line, 3) << "the base is untouched";
}

// Random files over small pools of IDs, addresses and names, so lines collide often: whenever
// build_overlay accepts a change, every question has the full build's answer.
class RandomFiles {
public:
    explicit RandomFiles(unsigned seed)
        : random_(seed) {}

    std::string line(int number) {
        const int id = pick(40);
        std::string text = fmt::format("c{:02} 10.89.0.{}", id, 2 + pick(30));
        text += pick(3) == 0 ? fmt::format(" fd00::{:x}", 2 + pick(30)) : " ";
        text += fmt::format(" n{}", pick(30));
        if (pick(2) == 0) {
            text += fmt::format(",alias{}", pick(6));
        }
        text += fmt::format(",c{:02}", id);
        if (pick(4) == 0) {
            text += fmt::format(" 127.0.0.{}", 1 + number % 9);
        }
        return text + "\n";
    }

    int pick(int below) { return std::uniform_int_distribution<int>(0, below - 1)(random_); }

private:
    std::mt19937 random_;
};

void expect_same_answers(const NetworkTable& overlay, const NetworkTable& full,
                         const std::string& context) {
    SCOPED_TRACE(context);
    EXPECT_EQ(all_names(overlay), all_names(full));
    for (const std::string& name : all_names(full)) {
        EXPECT_EQ(addresses_of(overlay, name), addresses_of(full, name)) << name;
    }
    for (int host = 2; host < 32; ++host) {
        for (const std::string& address :
             {fmt::format("10.89.0.{}", host), fmt::format("fd00::{:x}", host)}) {
            EXPECT_EQ(names_of(overlay, address), names_of(full, address)) << address;
            std::vector<std::uint64_t> overlay_keys;
            std::vector<std::uint64_t> full_keys;
            EXPECT_EQ(overlay.holds(ip(address), &overlay_keys),
                      full.holds(ip(address), &full_keys));
            EXPECT_EQ(overlay_keys, full_keys) << address;
            const auto overlay_dns = overlay.dns_servers_of(ip(address));
            const auto full_dns = full.dns_servers_of(ip(address));
            EXPECT_EQ(overlay_dns.found, full_dns.found) << address;
            EXPECT_TRUE(std::equal(overlay_dns.servers.begin(), overlay_dns.servers.end(),
                                   full_dns.servers.begin(), full_dns.servers.end()))
                << address;
        }
    }
    EXPECT_EQ(sorted_keys(overlay), sorted_keys(full));
    EXPECT_EQ(overlay.entry_count(), full.entry_count());
    ASSERT_EQ(overlay.findings().size(), full.findings().size());
    for (std::size_t i = 0; i < full.findings().size(); ++i) {
        const records::Finding& mine = overlay.findings()[i];
        const records::Finding& theirs = full.findings()[i];
        EXPECT_EQ(mine.line, theirs.line);
        EXPECT_EQ(mine.status, theirs.status);
        EXPECT_EQ(mine.container_id, theirs.container_id);
        EXPECT_EQ(mine.newer_id, theirs.newer_id);
        EXPECT_EQ(mine.newer_line, theirs.newer_line);
        EXPECT_EQ(mine.reason, theirs.reason);
        EXPECT_EQ(mine.shadowed_names, theirs.shadowed_names);
        EXPECT_EQ(mine.removable, theirs.removable);
    }
    std::vector<records::ProbeCandidate> overlay_probes;
    std::vector<records::ProbeCandidate> full_probes;
    overlay.append_probe_candidates(0, overlay_probes);
    full.append_probe_candidates(0, full_probes);
    ASSERT_EQ(overlay_probes.size(), full_probes.size());
    for (std::size_t i = 0; i < full_probes.size(); ++i) {
        EXPECT_EQ(overlay_probes[i].address, full_probes[i].address);
    }
}

// One random change over a random root, given as the engine gives it: the removed lines'
// container keys, and where the root's entangled lines are now. Returns false when the engine
// would not ask (a removed line is entangled).
struct RandomChange {
    std::string left; // the file after the change
    config::NetworkFile added;
    std::vector<std::uint64_t> removed;
    std::vector<NetworkTable::LineMove> moves;
    int added_count = 0;
};

bool random_change(RandomFiles& random, const NetworkTable& root,
                   const std::vector<std::string>& root_lines, const std::vector<std::string>& ids,
                   RandomChange& change) {
    const auto entangled = root.entangled_lines();
    const auto is_entangled = [&](int line) {
        return std::any_of(entangled.begin(), entangled.end(),
                           [&](const records::EntangledLine& e) { return e.line == line; });
    };
    // Teardowns keep the order of what is left; setups append.
    change.left = "10.89.0.1\n";
    std::vector<int> removed_lines;
    for (std::size_t i = 0; i < root_lines.size(); ++i) {
        const int line = static_cast<int>(i) + 2;
        if (random.pick(4) == 0) {
            if (is_entangled(line)) {
                return false;
            }
            removed_lines.push_back(line);
            change.removed.push_back(records::container_key(ids[i]));
        } else {
            change.left += root_lines[i];
        }
    }
    for (const records::EntangledLine& line : entangled) {
        const auto before = std::count_if(removed_lines.begin(), removed_lines.end(),
                                          [&](int removed) { return removed < line.line; });
        change.moves.push_back({line.line, line.line - static_cast<int>(before)});
    }
    std::string added_text = "10.89.0.1\n";
    change.added_count = random.pick(4);
    for (int i = 0; i < change.added_count; ++i) {
        added_text += random.line(i);
    }
    change.left += added_text.substr(added_text.find('\n') + 1);
    change.added = network_file("podman", added_text);
    // The added lines' real line numbers, as the engine passes them.
    const int first_added = static_cast<int>(root_lines.size() - removed_lines.size()) + 2;
    for (auto& entry : change.added.entries) {
        entry.line += first_added - 2;
    }
    return true;
}

TEST(NetworkTableOverlay, EveryAcceptedChangeAnswersAsTheFullBuildOfTheFileLeft) {
    RandomFiles random(2026);
    int accepted = 0;
    int with_removals_and_additions = 0;
    int over_findings = 0;
    for (int round = 0; round < 1200; ++round) {
        // Even rounds: root lines that share no ID, address or first name (they may share
        // aliases). Odd rounds: a clash is let in now and then, so most roots have stale lines
        // and lines that share nothing.
        const bool clean = round % 2 == 0;
        std::vector<std::string> root_lines;
        std::vector<std::string> ids;
        std::vector<std::string> taken; // addresses and first names
        while (root_lines.size() < 12) {
            std::string line = random.line(static_cast<int>(root_lines.size()));
            std::vector<std::string> fields;
            for (std::size_t start = 0; start <= line.size();) {
                const std::size_t end = std::min(line.find_first_of(" ,\n", start), line.size());
                fields.push_back(line.substr(start, end - start));
                start = end + 1;
            }
            // ID, IPv4, IPv6 (may be empty), first name.
            const std::array own{fields[1], fields[2], fields[3]};
            const bool clashes = std::find(ids.begin(), ids.end(), fields[0]) != ids.end() ||
                                 std::any_of(own.begin(), own.end(), [&](const std::string& field) {
                                     return !field.empty() && std::find(taken.begin(), taken.end(),
                                                                        field) != taken.end();
                                 });
            if (!clashes || (!clean && random.pick(5) == 0)) {
                ids.push_back(fields[0]);
                taken.insert(taken.end(), own.begin(), own.end());
                root_lines.push_back(std::move(line));
            }
        }
        std::string root_text = "10.89.0.1\n";
        for (const auto& line : root_lines) {
            root_text += line;
        }
        const auto root = full_build(root_text);
        ASSERT_TRUE(root->can_carry_overlay()) << root_text;
        if (clean) {
            EXPECT_TRUE(root->findings().empty());
            EXPECT_TRUE(root->entangled_lines().empty());
        }
        EXPECT_TRUE(root->findings().empty() || !root->entangled_lines().empty());
        RandomChange change;
        if (!random_change(random, *root, root_lines, ids, change)) {
            continue;
        }
        const auto overlay =
            NetworkTable::build_overlay(root, change.added, change.removed, change.moves);
        if (!overlay) {
            continue;
        }
        ++accepted;
        over_findings += root->findings().empty() ? 0 : 1;
        if (!change.removed.empty() && change.added_count > 0) {
            ++with_removals_and_additions;
        }
        expect_same_answers(*overlay, *full_build(change.left),
                            fmt::format("round {}:\n{}", round, change.left));
    }
    // The pools are small enough to refuse often, but most changes must be taken.
    EXPECT_GT(accepted, 200);
    EXPECT_GT(with_removals_and_additions, 50);
    EXPECT_GT(over_findings, 40);
}

} // namespace

namespace {

TEST(NetworkTableOverlay, TheOverlayServesTheFilesHeaderAsItIsNow) {
    const auto root = full_build(kRoot);
    // `podman network update`: the same lines under a new header.
    const config::NetworkFile added = network_file("podman", "10.89.0.1,fd00::1 127.0.0.54\n");
    const auto overlay = NetworkTable::build_overlay(root, added, {});
    ASSERT_TRUE(overlay);
    EXPECT_EQ(overlay->network().bind_ips, records_test::ips({"10.89.0.1", "fd00::1"}));
    EXPECT_EQ(overlay->network().dns_servers, records_test::ips({"127.0.0.54"}));
    EXPECT_THAT(addresses_of(*overlay, "app"), ElementsAre("10.89.0.2"));
    EXPECT_EQ(root->network().dns_servers, std::vector<base::IpAddress>{});
}

} // namespace
