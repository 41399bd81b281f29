import Foundation
import TestFixtures

/// Copies of a sample's binaries under a sysroot: the layout of a core analysed on another
/// machine, where `--sysroot DIR` finds `/abs/path/classes` as `DIR/abs/path/classes`.
enum Sysroots {
    /// A fresh directory under the core directory, emptied first.
    static func freshDirectory(_ name: String) throws -> URL {
        let url = SampleCores.coreDirectory.appendingPathComponent("symbols-tests").appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `root` + `path` for an absolute path.
    static func place(_ path: String, in root: URL) -> URL {
        URL(fileURLWithPath: root.path + path)
    }

    /// Copies (or moves) each file to its place under `root`, creating directories.
    static func install(_ paths: [String], in root: URL, move: Bool = false) throws {
        for path in paths {
            let destination = place(path, in: root)
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            if move {
                try FileManager.default.moveItem(atPath: path, toPath: destination.path)
            } else {
                try FileManager.default.copyItem(atPath: path, toPath: destination.path)
            }
        }
    }

    /// `strip --strip-all`: no .symtab, no DWARF; .dynsym and the build-id note stay.
    static func strip(_ paths: [String], in root: URL) throws {
        try SampleCores.run(["strip", "--strip-all"] + paths.map { place($0, in: root).path })
    }

    /// A `classes` core of its own, whose binaries the test may move away.
    static func privateClassesCore(_ name: String) throws -> (path: String, truth: ClassesTruth) {
        let directory = try freshDirectory(name)
        let script = SampleCores.repositoryRoot.appendingPathComponent("Samples/make-core").path
        let output = try SampleCores.run([script, "--out", directory.path, "classes"])
        guard let path = output.split(separator: "\n").last.map(String.init) else {
            throw SampleCoreError.failed("make-core printed no core path")
        }
        let truthPath = String(path.dropLast(".core".count)) + ".truth.json"
        let data = try Data(contentsOf: URL(fileURLWithPath: truthPath))
        guard let truth = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SampleCoreError.failed("\(truthPath) is not a JSON object")
        }
        return (path, try ClassesTruth(truth: truth))
    }
}
