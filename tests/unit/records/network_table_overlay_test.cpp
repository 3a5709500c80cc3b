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

void expect_same_answers(const NetworkTable& overlay, const NetworkTable& full,
                         const std::string& context);

// Where the root's line of container `id` lies, as the engine tells build_overlay.
std::uint32_t order_of(const NetworkTable& root, std::string_view id) {
    return static_cast<std::uint32_t>(*root.position_of(records::container_key(id)) + 1);
}

TEST(NetworkTableOverlay, ABaseWithStaleLinesCarriesChangesThatJudgeThemAgain) {
    // a1's address was taken by a2: a1 is stale, and both lines are entangled.
    const std::string_view a1 = "a1 10.89.0.2  app,a1\n";
    const std::string_view a2 = "a2 10.89.0.2  web,a2\n";
    const auto stale = full_build(fmt::format("10.89.0.1\n{}b1 10.89.0.3  db,b1\n{}", a1, a2));
    ASSERT_EQ(stale->findings().size(), 1U);
    ASSERT_TRUE(stale->can_carry_overlay());
    ASSERT_EQ(stale->entangled_lines().size(), 2U);
    EXPECT_EQ(stale->entangled_lines()[0].line, 2);
    EXPECT_EQ(stale->entangled_lines()[1].line, 4);
    const config::NetworkFile setup = network_file("podman", "10.89.0.1\nc1 10.89.0.9  cache\n");
    EXPECT_FALSE(NetworkTable::build_overlay(stale, setup, {}))
        << "a2 serves and is entangled: it must be judged again";
    // b1 torn down and a2 torn down: a1 serves again. The lines judged again are a1 (line 2
    // now) and the setup's (line 3).
    config::NetworkFile lines =
        network_file("podman", fmt::format("10.89.0.1\n{}c1 10.89.0.9  cache\n", a1));
    const std::array orders{0U, NetworkTable::kNewest};
    const auto overlay = NetworkTable::build_overlay(
        stale, lines, {records::container_key("a2"), records::container_key("b1")}, orders);
    ASSERT_TRUE(overlay);
    EXPECT_THAT(addresses_of(*overlay, "app"), ElementsAre("10.89.0.2"));
    EXPECT_THAT(addresses_of(*overlay, "web"), IsEmpty());
    EXPECT_THAT(addresses_of(*overlay, "db"), IsEmpty());
    EXPECT_THAT(overlay->findings(), IsEmpty());
    EXPECT_EQ(overlay->entry_count(), 2U);
    EXPECT_FALSE(overlay->can_carry_overlay()) << "an overlay is not a base";
    // Lines without an ID tell themselves from no other: such a clash takes full builds.
    const auto no_ids = full_build("10.89.0.1\n 10.89.0.2  app\n 10.89.0.2  web\n");
    EXPECT_FALSE(no_ids->can_carry_overlay());
}

TEST(NetworkTableOverlay, ASetupThatShadowsALineJudgesItAgain) {
    // The seed's case: `web` recreated under a new ID while its old line stayed (a teardown
    // that never ran). The old line was current; now it is shadowed.
    const auto root = full_build(kRoot);
    const config::NetworkFile setup = network_file("podman", "10.89.0.1\nc2 10.89.0.7  web,c2\n");
    EXPECT_FALSE(NetworkTable::build_overlay(root, setup, {}));
    EXPECT_THAT(root->clashing_keys(setup, {}), ElementsAre(records::container_key("c1")));
    // c1's line is judged again, after b1's (left as it is), with which it shares `shared`.
    config::NetworkFile lines =
        network_file("podman", "10.89.0.1\nc1 10.89.0.4  web,shared,c1\nc2 10.89.0.7  web,c2\n");
    lines.entries[0].line = 4;
    lines.entries[1].line = 5;
    const std::array orders{order_of(*root, "b1"), NetworkTable::kNewest};
    const auto overlay =
        NetworkTable::build_overlay(root, lines, {records::container_key("c1")}, orders);
    ASSERT_TRUE(overlay);
    EXPECT_THAT(addresses_of(*overlay, "web"), ElementsAre("10.89.0.7"));
    EXPECT_THAT(addresses_of(*overlay, "shared"), ElementsAre("10.89.0.4", "10.89.0.3", "fd00::3"));
    ASSERT_EQ(overlay->findings().size(), 1U);
    EXPECT_EQ(overlay->findings()[0].line, 4);
    EXPECT_EQ(overlay->findings()[0].status, records::EntryStatus::Shadowed);
    EXPECT_THAT(overlay->findings()[0].reason, testing::HasSubstr("(line 5)"));
    expect_same_answers(*overlay, *full_build(std::string(kRoot) + "c2 10.89.0.7  web,c2\n"),
                        "seed case");
}

TEST(NetworkTableOverlay, ALineJudgedAgainAnswersASharedNameInItsPlace) {
    // x1 and y1 share the alias `api`; x2 takes x1's name, so x1 is judged again. x1 is older
    // than y1, which is left as it is: `api` still answers y1 first.
    constexpr std::string_view kText = "10.89.0.1\nx1 10.89.0.10  xx,api,x1\n"
                                       "y1 10.89.0.11  yy,api,y1\n";
    const auto root = full_build(kText);
    config::NetworkFile lines =
        network_file("podman", "10.89.0.1\nx1 10.89.0.10  xx,api,x1\nx2 10.89.0.12  xx,x2\n");
    lines.entries[0].line = 2;
    lines.entries[1].line = 4;
    const std::array orders{0U, NetworkTable::kNewest};
    const auto overlay =
        NetworkTable::build_overlay(root, lines, {records::container_key("x1")}, orders);
    ASSERT_TRUE(overlay);
    EXPECT_THAT(addresses_of(*overlay, "api"), ElementsAre("10.89.0.11", "10.89.0.10"));
    EXPECT_THAT(addresses_of(*overlay, "xx"), ElementsAre("10.89.0.12"));
    expect_same_answers(*overlay, *full_build(std::string(kText) + "x2 10.89.0.12  xx,x2\n"),
                        "merge");
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

// Every warm-up step, on every level, for a name or an address that may be held or not: it
// must only read inside the tables (the ASan preset runs this), whatever they hold.
void warm_every_step(const NetworkTable& table, const std::string& name,
                     const base::IpAddress& address) {
    for (unsigned step = 0; step < NetworkTable::kWarmSteps; ++step) {
        table.warm_name(name, NetworkTable::name_hash(name), step);
        table.warm_address(address.hash(), step);
    }
}

void expect_same_answers(const NetworkTable& overlay, const NetworkTable& full,
                         const std::string& context) {
    SCOPED_TRACE(context);
    EXPECT_EQ(all_names(overlay), all_names(full));
    for (const std::string& name : all_names(full)) {
        EXPECT_EQ(addresses_of(overlay, name), addresses_of(full, name)) << name;
    }
    for (int host = 2; host < 32; ++host) {
        warm_every_step(overlay, fmt::format("n{}", host), ip(fmt::format("10.89.0.{}", host)));
        warm_every_step(full, fmt::format("c{:02}", host), ip(fmt::format("fd00::{:x}", host)));
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

// One random change over a random root (teardowns keep the order of what is left; setups
// append), and its overlay made as the engine makes it: the lines to judge again are the setups'
// and those of the root's entangled containers, then also those of the containers
// clashing_keys names; every other root container left is kept, the rest hidden.
struct RandomChange {
    std::string left; // the file after the change
    std::shared_ptr<const NetworkTable> overlay;
    int removed = 0;
    int added = 0;
};

RandomChange random_change(RandomFiles& random, const std::shared_ptr<const NetworkTable>& root,
                           const std::vector<std::string>& root_lines,
                           const std::vector<std::string>& ids) {
    RandomChange change;
    std::vector<bool> gone(root_lines.size(), false);
    for (std::size_t i = 0; i < root_lines.size(); ++i) {
        gone[i] = random.pick(4) == 0;
        change.removed += gone[i] ? 1 : 0;
    }
    std::vector<std::string> added;
    change.added = random.pick(4);
    for (int i = 0; i < change.added; ++i) {
        added.push_back(random.line(i));
    }
    change.left = "10.89.0.1\n";
    for (std::size_t i = 0; i < root_lines.size(); ++i) {
        change.left += gone[i] ? "" : root_lines[i];
    }
    for (const auto& line : added) {
        change.left += line;
    }
    std::vector<std::uint64_t> again;
    for (const records::EntangledLine& line : root->entangled_lines()) {
        again.push_back(line.key);
    }
    for (int round = 0; round < 2; ++round) {
        std::sort(again.begin(), again.end());
        const auto judged = [&](std::size_t i) {
            return std::binary_search(again.begin(), again.end(), records::container_key(ids[i]));
        };
        std::string text = "10.89.0.1\n";
        std::vector<int> numbers;
        std::vector<std::uint32_t> orders;
        std::vector<std::uint64_t> kept;
        const auto root_keys = root->own_container_keys();
        std::uint32_t last_kept = 0;
        int line_number = 1;
        for (std::size_t i = 0; i < root_lines.size(); ++i) {
            if (gone[i]) {
                continue;
            }
            ++line_number;
            const std::uint64_t key = records::container_key(ids[i]);
            if (judged(i)) {
                text += root_lines[i];
                numbers.push_back(line_number);
                orders.push_back(last_kept);
            } else {
                kept.push_back(key);
                last_kept = static_cast<std::uint32_t>(*root->position_of(key) + 1);
            }
        }
        for (const auto& line : added) {
            text += line;
            numbers.push_back(++line_number);
            orders.push_back(NetworkTable::kNewest);
        }
        config::NetworkFile lines = network_file("podman", text);
        if (lines.entries.size() != numbers.size()) {
            ADD_FAILURE() << text;
            return change;
        }
        for (std::size_t i = 0; i < numbers.size(); ++i) {
            lines.entries[i].line = numbers[i];
        }
        std::sort(kept.begin(), kept.end());
        std::vector<std::uint64_t> hidden;
        for (const std::uint64_t key : root_keys) {
            if (!std::binary_search(kept.begin(), kept.end(), key)) {
                hidden.push_back(key);
            }
        }
        const auto clashing = root->clashing_keys(lines, hidden);
        if (clashing.empty()) {
            change.overlay = NetworkTable::build_overlay(root, lines, hidden, orders);
            return change;
        }
        again.insert(again.end(), clashing.begin(), clashing.end());
    }
    ADD_FAILURE() << "a second walk found more lines to judge again";
    return change; // names shared on and on: the engine makes a full build
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
        const RandomChange change = random_change(random, root, root_lines, ids);
        if (!change.overlay) {
            continue;
        }
        ++accepted;
        over_findings += root->findings().empty() ? 0 : 1;
        if (change.removed > 0 && change.added > 0) {
            ++with_removals_and_additions;
        }
        expect_same_answers(*change.overlay, *full_build(change.left),
                            fmt::format("round {}:\n{}", round, change.left));
    }
    // Lines judged again make every change an overlay, stale lines or not.
    EXPECT_GT(accepted, 1100);
    EXPECT_GT(with_removals_and_additions, 500);
    EXPECT_GT(over_findings, 400);
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
