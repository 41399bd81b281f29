import Foundation
import Testing
import TestFixtures

/// Every command's JSON on the sample cores against docs/json.md: each top-level key is
/// documented for its command with its type, every key the document does not mark optional is
/// there, the common keys are on every output, and the conventions hold at every depth
/// (addresses are "0x…" strings; sizes, counts and offsets are numbers; `arena` is a name).
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct JSONSchemaTests {
    /// One JSON value as decoded without any bridging, so a number is never taken for a boolean.
    indirect enum Value: Decodable {
        case string(String), number(Double), boolean(Bool), array([Value]), object([String: Value]), null

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .boolean(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else if let value = try? container.decode(String.self) { self = .string(value) }
            else if let value = try? container.decode([Value].self) { self = .array(value) }
            else { self = .object(try container.decode([String: Value].self)) }
        }

        /// The type names docs/json.md uses.
        var documentedType: String {
            switch self {
            case .string(let text): return text.hasPrefix("0x") ? "address" : "string"
            case .number: return "number"
            case .boolean: return "boolean"
            case .array: return "array"
            case .object: return "object"
            case .null: return "null"
            }
        }
    }

    struct Field: Equatable {
        let type: String
        let optional: Bool
    }

    /// The tables of docs/json.md, by section title ("leaks", "heap-jemalloc", "Every command").
    static func documented() throws -> [String: [String: Field]] {
        let path = SampleCores.repositoryRoot.appendingPathComponent("docs/json.md")
        let text = try String(contentsOf: path, encoding: .utf8)
        var sections: [String: [String: Field]] = [:]
        var section = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("## ") { section = String(line.dropFirst(3)); continue }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[0].hasPrefix("`"), cells[0].hasSuffix("`") else { continue }
            let key = String(cells[0].dropFirst().dropLast())
            let optional = cells[1].hasSuffix("?")
            sections[section, default: [:]][key] = Field(type: optional ? String(cells[1].dropLast()) : cells[1], optional: optional)
        }
        return sections
    }

    /// Problems with one output against the section `shape`, as readable lines.
    static func problems(_ output: [String: Value], shape: String, documents: [String: [String: Field]]) -> [String] {
        guard let own = documents[shape], let common = documents["Every command"] else { return ["docs/json.md has no section \(shape)"] }
        let fields = own.merging(common) { mine, _ in mine }
        var found: [String] = []
        for (key, value) in output {
            guard let field = fields[key] else { found.append("\(shape): key \(key) is not documented"); continue }
            // An address is a string too: `string` admits either, `address` only "0x…".
            let type = value.documentedType
            let matches = type == field.type || (field.type == "string" && type == "address")
            if !matches { found.append("\(shape).\(key): \(type), documented \(field.type)") }
        }
        for (key, field) in fields where !field.optional && output[key] == nil {
            found.append("\(shape): documented key \(key) is missing")
        }
        conventions(.object(output), path: shape, into: &found)
        return found
    }

    static func isAddressKey(_ key: String) -> Bool {
        ["address", "start", "end", "top", "vtable", "target"].contains(key)
            || ["Address", "Start", "End", "Counter", "Pointer"].contains { key.hasSuffix($0) }
    }

    static func isNumberKey(_ key: String) -> Bool {
        ["size", "count", "bytes", "offset"].contains(key)
            || ["Size", "Count", "Bytes", "Offset", "Allocations", "Chunks", "Extents"].contains { key.hasSuffix($0) }
    }

    static func conventions(_ value: Value, path: String, into found: inout [String]) {
        switch value {
        case .object(let object):
            for (key, child) in object {
                let where_ = "\(path).\(key)"
                switch child {
                case .string, .number, .boolean, .null:
                    if isAddressKey(key), child.documentedType != "address" { found.append("\(where_) is not a \"0x…\" address") }
                    if isNumberKey(key), child.documentedType != "number" { found.append("\(where_) is not a number") }
                    if key == "arena", child.documentedType != "string" { found.append("\(where_) is not an arena name") }
                case .array, .object:
                    // mallinfo keeps the field names of glibc's struct mallinfo2 (its `arena`
                    // is a byte count); its values are all numbers.
                    if key == "mallinfo", case .object(let fields) = child {
                        for (name, value) in fields where value.documentedType != "number" { found.append("\(where_).\(name) is not a number") }
                        continue
                    }
                    conventions(child, path: where_, into: &found)
                }
            }
        case .array(let items):
            for item in items { conventions(item, path: path + "[]", into: &found) }
        default:
            break
        }
    }

    static func run(_ arguments: [String]) throws -> [String: Value] {
        let result = try HeapscanProcess.run(arguments + ["--format", "json"])
        guard result.status == 0, !result.crashed else {
            throw SampleCoreError.failed("heapscan \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
        guard case .object(let object) = try JSONDecoder().decode(Value.self, from: Data(result.stdout.utf8)) else {
            throw SampleCoreError.failed("heapscan \(arguments.joined(separator: " ")): not a JSON object")
        }
        return object
    }

    /// Every command on a core, with the options that add optional parts, and the section of
    /// docs/json.md its output follows.
    static func invocations(_ core: String, heapShape: String) throws -> [(shape: String, arguments: [String])] {
        let leaks = try HeapscanProcess.json(["leaks", core])
        let suspects = leaks["suspects"] as? [[String: Any]] ?? []
        // A leaked example when there is one (explain's answer is then the leaked shape).
        let suspect = suspects.first { ($0["leaked"] as? Int ?? 0) > 0 } ?? suspects.first
        let example = try #require((suspect?["examples"] as? [String])?.first)
        let info = try HeapscanProcess.json(["info", core])
        let stack = try #require((info["threads"] as? [[String: Any]])?.first?["stackPointer"] as? String)
        return [
            ("info", ["info", core]), ("leaks", ["leaks", core]), ("leaks", ["leaks", core, "--leaked-only", "--owners"]),
            ("types", ["types", core]), ("types", ["types", core, "--scan-words"]),
            (heapShape, ["heap", core, "--free", "--address", example]),
            ("words", ["words", core, "--top", "20"]), ("words-by-allocation", ["words", core, "--by-allocation"]),
            ("show", ["show", core, example]), ("show-address", ["show", core, stack]),
            ("explain", ["explain", core, example]), ("explain-all", ["explain", core, example, "--all"]),
            ("refs", ["refs", core, example, "--depth", "2"]), ("refs", ["refs", core, example, "--outgoing"]),
            ("find", ["find", core, example, "--context", "16"]), ("find", ["find", core, "--string", "e", "--count"]),
        ]
    }

    @Test(arguments: [("service", "heap"), ("jemalloc", "heap-jemalloc"), ("pymalloc", "heap"), ("pymalloc-jemalloc", "heap-jemalloc")])
    func everyCommandFollowsTheDocument(_ sample: String, _ heapShape: String) throws {
        let documents = try Self.documented()
        let core = try SampleCores.core(sample).path
        var seen = Set<String>()
        for (shape, arguments) in try Self.invocations(core, heapShape: heapShape) {
            let output = try Self.run(arguments)
            seen.insert(shape)
            #expect(Self.problems(output, shape: shape, documents: documents).isEmpty,
                    "heapscan \(arguments.joined(separator: " ")):\n\(Self.problems(output, shape: shape, documents: documents).joined(separator: "\n"))")
            if case .string(let named) = output["core"] { #expect(named == core) }
        }
        #expect(seen.count == 12)
    }

    @Test func diffAndProfileFollowTheDocument() throws {
        let documents = try Self.documented()
        let one = try SampleCores.core("leaker", ["1"])
        let three = try SampleCores.core("leaker", ["3"])
        let diff = try Self.run(["diff", one.path, three.path])
        guard case .array(let rows) = diff["rows"] else { Issue.record("diff has no rows"); return }
        #expect(!rows.isEmpty)
        #expect(Self.problems(diff, shape: "diff", documents: documents) == [])
        if case .string(let named) = diff["core"] { #expect(named == three.path) } else { Issue.record("diff has no core") }

        let profiled = try SampleCores.core("jemalloc-prof", ["0", "50"])
        let profile = try Self.run(["profile", profiled.path, "--lg-sample", "0"])
        #expect(Self.problems(profile, shape: "profile", documents: documents) == [])
    }

    /// Every section of the document is a command's output (so none describes a command that
    /// no longer exists), and every command with JSON output has a section.
    @Test func theDocumentCoversEveryCommand() throws {
        let sections = Set(try Self.documented().keys)
        #expect(sections == ["Every command", "info", "leaks", "types", "heap", "heap-jemalloc", "words", "words-by-allocation",
                             "show", "show-address", "explain", "explain-all", "refs", "find", "diff", "profile"])
    }

    /// `usedAllocations` and `usedBytes` mean the same for both allocators: `heap`'s totals and
    /// arenas add up to what `leaks` counts.
    @Test(arguments: ["service", "jemalloc", "service-jemalloc"])
    func heapAndLeaksCountTheSameUsedAllocations(_ sample: String) throws {
        let core = try SampleCores.core(sample).path
        let heap = try HeapscanProcess.json(["heap", core])
        let leaks = try HeapscanProcess.json(["leaks", core])
        let totals = try #require(heap["totals"] as? [String: Any])
        let used = try #require((leaks["usedAllocations"] as? NSNumber)?.intValue)
        let bytes = try #require((leaks["usedBytes"] as? NSNumber)?.uint64Value)
        #expect((totals["usedAllocations"] as? NSNumber)?.intValue == used)
        #expect((totals["usedBytes"] as? NSNumber)?.uint64Value == bytes)
        let arenas = try #require(heap["arenas"] as? [[String: Any]])
        #expect(arenas.reduce(0) { $0 + (($1["usedAllocations"] as? NSNumber)?.intValue ?? 0) } == used)
        #expect(arenas.allSatisfy { ($0["arena"] as? String)?.contains("arena") == true })
    }
}
