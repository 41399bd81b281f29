import Foundation
import Testing
import TestFixtures

/// `refs` and `explain --all` on the leaker sample, whose anchored objects are held in known places: a global array
/// (one module-data root word), a heap list node (one word at +8 of a 24-byte Node), and whose
/// leaked objects nothing points to.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct RefsCommandTests {
    func number(_ object: [String: Any]?, _ key: String) -> Int? { (object?[key] as? NSNumber)?.intValue }

    func refs(_ core: String, _ address: String, _ extra: [String] = []) throws -> [String: Any] {
        try HeapscanProcess.json(["refs", core, address, "--limit", "0"] + extra)
    }

    @Test func incomingAndOutgoingReferencesAreWhereTheProgramPutThem() throws {
        let sample = try SampleCores.core("leaker")
        let nodeSize = try #require(sample.int("chain_node_size"))
        let nodeBlock = "\(max(32, (nodeSize + 8 + 15) / 16 * 16))-byte blocks"
        for type in sample.truth["types"] as? [[String: Any]] ?? [] {
            let name = type["name"] as? String ?? "?"
            // Chain: one pointer, at +8 (Node::obj) of an anchored list node.
            let chained = try #require(type["example_anchored_chain"] as? String)
            let toChained = try refs(sample.path, chained)
            #expect(number(toChained, "total") == 1, "\(name)")
            let fromNode = try #require((toChained["references"] as? [[String: Any]])?.first, "\(name)")
            #expect(fromNode["owner"] as? String == nodeBlock, "\(name)")
            #expect(number(fromNode, "offset") == 8, "\(name)")
            #expect(fromNode["liveness"] as? String == "anchored", "\(name)")
            let groups = try #require(toChained["groups"] as? [[String: Any]])
            #expect(groups.count == 1 && groups.first?["owner"] as? String == nodeBlock && number(groups.first, "count") == 1)
            // The node's outgoing references include the object, at +8, pointing to its start.
            let node = try #require(fromNode["holder"] as? String)
            let outgoing = try #require(try refs(sample.path, node, ["--outgoing"])["references"] as? [[String: Any]])
            #expect(outgoing.contains { $0["target"] as? String == chained && number($0, "offset") == 8 && number($0, "targetOffset") == 0 },
                    "\(name): \(outgoing)")

            // Global: one word of module data, the array's first element, named by its symbol.
            let global = try #require(type["example_anchored_global"] as? String)
            let toGlobal = try refs(sample.path, global)
            #expect(number(toGlobal, "total") == 1, "\(name)")
            let root = try #require((toGlobal["references"] as? [[String: Any]])?.first)
            #expect(root["rootKind"] as? String == "module-data")
            #expect(root["location"] as? String == type["global_array"] as? String)
            #expect((root["symbol"] as? String)?.hasPrefix("g_global_anchors") == true, "\(root)")

            // Leaked: nothing points to it.
            let leaked = try #require(type["example_leaked"] as? String)
            let toLeaked = try refs(sample.path, leaked)
            #expect(number(toLeaked, "total") == 0, "\(name)")
            #expect(toLeaked["liveness"] as? String == "unreferenced")
        }
    }

    /// explain --all: the global and stack anchors are one root word each; a chained object is held
    /// by its list node (+8), which the chain from g_chain_heads reaches; a leaked one has no path.
    @Test func explainAllListsEveryAnchorPath() throws {
        let sample = try SampleCores.core("leaker")
        for type in sample.truth["types"] as? [[String: Any]] ?? [] {
            let name = type["name"] as? String ?? "?"
            for (key, rootKind, minimumLinks) in [("example_anchored_global", "module-data", 1),
                                                  ("example_anchored_stack", "stack", 1),
                                                  ("example_anchored_chain", "module-data", 2)] {
                let address = try #require(type[key] as? String)
                let result = try HeapscanProcess.json(["explain", sample.path, address, "--all"])
                #expect(number(result, "total") == 1, "\(name) \(key)")
                let path = try #require((result["paths"] as? [[String: Any]])?.first, "\(name) \(key)")
                #expect(path["rootKind"] as? String == rootKind, "\(name) \(key)")
                let links = try #require(path["links"] as? [[String: Any]])
                #expect(links.count >= minimumLinks, "\(name) \(key)")
                #expect(links.last?["allocation"] as? String == address)
                if key == "example_anchored_chain" { #expect(number(links.last, "offsetInHolder") == 8) }
            }
            let leaked = try #require(type["example_leaked"] as? String)
            let none = try HeapscanProcess.json(["explain", sample.path, leaked, "--all"])
            #expect(number(none, "total") == 0 && (none["paths"] as? [Any])?.isEmpty == true, "\(name)")
        }
    }

    /// --depth: a chained object's node is held by the node pushed after it (Node::next at +0),
    /// and that one by the next; a global anchor's only holder is a root, so there is no level 2.
    @Test func depthFollowsTheListBackwards() throws {
        let sample = try SampleCores.core("leaker")
        let nodeSize = try #require(sample.int("chain_node_size"))
        let nodeBlock = "\(max(32, (nodeSize + 8 + 15) / 16 * 16))-byte blocks"
        let type = try #require((sample.truth["types"] as? [[String: Any]])?.first)
        let chained = try refs(sample.path, try #require(type["example_anchored_chain"] as? String), ["--depth", "3"])
        let levels = try #require(chained["deeper"] as? [[[String: Any]]])
        #expect(levels.count == 2)
        for level in levels {
            #expect(level.count == 1 && level.first?["owner"] as? String == nodeBlock && number(level.first, "offset") == 0
                    && number(level.first, "count") == 1, "\(level)")
        }
        let global = try refs(sample.path, try #require(type["example_anchored_global"] as? String), ["--depth", "3"])
        #expect((global["deeper"] as? [Any])?.isEmpty == true)
    }

    @Test func anAddressOutsideEveryAllocationIsAnError() throws {
        let sample = try SampleCores.core("leaker")
        let result = try HeapscanProcess.run(["refs", sample.path, "0x10"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("not inside a used allocation"))
    }
}
