/// Where to find the files a core refers to, named like gdb's and eu-stack's options.
public struct SymbolOptions: Sendable, Equatable {
    /// The executable, when the path recorded in the core does not lead to it.
    public var executable: String?
    /// Prefix for every path recorded in the core: the core was made on another machine.
    public var sysroot: String?
    /// Extra directories searched for separate debuginfo (by build-id and by name), after
    /// `/usr/lib/debug` (and `SYSROOT/usr/lib/debug` with a sysroot).
    public var debugDirectories: [String]

    public init(executable: String? = nil, sysroot: String? = nil, debugDirectories: [String] = []) {
        self.executable = executable
        self.sysroot = sysroot
        self.debugDirectories = debugDirectories
    }

    /// Every debug directory searched, in order: the system's, the sysroot's, the user's.
    var allDebugDirectories: [String] {
        ["/usr/lib/debug"] + (sysroot.map { [Self.join($0, "/usr/lib/debug")] } ?? []) + debugDirectories
    }

    /// The `debuginfo_path` libdwfl searches: the file's own directory and `.debug` beside it,
    /// then the debug directories, whose `.build-id/xx/yyyy.debug` trees are searched too.
    var debuginfoPath: String {
        (["", ".debug"] + allDebugDirectories).joined(separator: ":")
    }

    /// `sysroot` + an absolute path recorded in the core.
    func hostPath(for corePath: String) -> String {
        guard let sysroot, corePath.hasPrefix("/") else { return corePath }
        return Self.join(sysroot, corePath)
    }

    static func join(_ root: String, _ path: String) -> String {
        var root = root
        while root.hasSuffix("/") && root.count > 1 { root.removeLast() }
        return root + path
    }
}
