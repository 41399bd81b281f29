import Foundation
import Testing
import TestFixtures

/// `leaks` groups the parts of libstdc++ containers by what they are (map, list and hash nodes,
/// bucket arrays, deque maps and blocks, vector bodies, long strings' characters) on the
/// containers sample, which counts each part itself: every count must equal its truth, anchored
/// and leaked apart, and none of those blocks may land in a magic or size group.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ContainerPartsTests {
    /// The truth's key for the parts each group name starts with.
    static let parts: [(prefix: String, truth: String)] = [
        ("std::map node", "map_nodes"), ("std::list node", "list_nodes"),
        ("std::unordered_map node", "hash_nodes"), ("std::unordered_map buckets", "hash_buckets"),
        ("long string body", "long_strings"), ("vector body", "vector_bodies"),
        ("std::deque block", "deque_blocks"), ("std::deque map", "deque_maps"),
    ]

    @Test(arguments: [["1"], ["3"]])
    func everyPartIsCountedExactly(_ arguments: [String]) throws {
        let sample = try SampleCores.core("containers", arguments)
        let anchored = try #require(sample.truth["anchored"] as? [String: Any])
        let leaked = try #require(sample.truth["leaked"] as? [String: Any])
        let report = try HeapscanProcess.json(["leaks", sample.path, "--min-count", "1", "--top", "0"])
        let suspects = try #require(report["suspects"] as? [[String: Any]])
        let containers = suspects.filter { $0["kind"] as? String == "container" }
        func number(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }
        for (prefix, key) in Self.parts {
            let rows = containers.filter { ($0["name"] as? String)?.hasPrefix(prefix) == true }
            #expect(rows.reduce(0) { $0 + number($1["anchored"]) } == number(anchored[key]), "anchored \(prefix)")
            #expect(rows.reduce(0) { $0 + number($1["leaked"]) } == number(leaked[key]), "leaked \(prefix)")
        }
        // The vector of Channel* is named by what its elements point to.
        let channels = try #require(containers.first { $0["name"] as? String == "vector body of Channel*" })
        #expect(number(channels["count"]) == 1)
        let channel = try #require(suspects.first { $0["kind"] as? String == "type" && $0["name"] as? String == "Channel" })
        #expect(number(channel["count"]) == number(anchored["channels"]))
        // Map nodes of one block size are one group, whatever their colour and padding hold:
        // the leaked map's nodes have the size of the anchored map<int, long>'s.
        let mapNodeSize = try #require(sample.int("map_node_size"))
        let blockSize = (mapNodeSize + 8 + 15) / 16 * 16
        let nodes = try #require(containers.first { $0["name"] as? String == "std::map node (\(blockSize)-byte blocks)" })
        #expect(number(nodes["leaked"]) == number(leaked["map_nodes"]))
        // show names each part as leaks groups it (a hash node is known only from its buckets).
        if arguments == ["1"] {
            for row in containers where !(row["name"] as? String ?? "").hasPrefix("std::unordered_map node") {
                let name = try #require(row["name"] as? String)
                let example = try #require((row["examples"] as? [String])?.first)
                let view = try HeapscanProcess.json(["show", sample.path, example, "--bytes", "8"])
                let container = try #require(view["container"] as? String, "\(name)")
                #expect(name.hasPrefix(container), "\(name) shown as \(container)")
            }
        }
        #expect(!suspects.contains { $0["kind"] as? String == "magic" }, "magics: \(suspects.filter { $0["kind"] as? String == "magic" }.map { $0["name"] ?? "?" })")
    }
}
