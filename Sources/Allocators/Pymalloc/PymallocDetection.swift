import ELFCore

/// Evidence that a core is of a CPython interpreter: its executable or `libpython` mapped
/// (NT_FILE), and the version its file name carries (`python3.11`, `libpython3.11.so.1.0`).
public struct PymallocDetection: Sendable, Equatable {
    public let path: String
    public let major: Int
    public let minor: Int

    public var interpreterName: String { "CPython \(major).\(minor)" }

    /// The interpreter's mapping, or nil when no mapped file is named like CPython's.
    public static func detect(in core: CoreFile) -> PymallocDetection? {
        // libpython first: an embedding program's own name says nothing about the interpreter.
        let candidates = core.fileMappings.map(\.path)
        for path in candidates where basename(path).hasPrefix("libpython") {
            if let version = version(inName: basename(path), after: "libpython") {
                return PymallocDetection(path: path, major: version.major, minor: version.minor)
            }
        }
        for path in candidates {
            if let version = version(inName: basename(path), after: "python") {
                return PymallocDetection(path: path, major: version.major, minor: version.minor)
            }
        }
        return nil
    }

    /// "3.11" from `python3.11`, `python3.11d`, `libpython3.11.so.1.0`; nil for other names.
    static func version(inName name: String, after prefix: String) -> (major: Int, minor: Int)? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        let parts = rest.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, let major = Int(parts[0]), major >= 2, major <= 9 else { return nil }
        let minorDigits = parts[1].prefix { $0.isASCII && $0.isNumber }
        guard let minor = Int(minorDigits), minorDigits.count <= 3 else { return nil }
        // Build flags may follow the minor (d, m, t); anything else is another program.
        let suffix = parts[1].dropFirst(minorDigits.count)
        guard suffix.allSatisfy({ "dmtu".contains($0) }) else { return nil }
        if parts.count == 3 && !parts[2].hasPrefix("so") { return nil }
        return (major, minor)
    }

    private static func basename(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path   // the NT_FILE name's last component
    }
}
