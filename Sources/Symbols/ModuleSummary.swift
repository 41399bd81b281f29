import ELFCore

/// The module table `heapscan info` shows, as plain values (addresses as "0x…" strings).
public struct ModuleSummary: Encodable, Sendable {
    public struct Row: Encodable, Sendable {
        public var name: String
        public var path: String
        public var start: String
        public var end: String
        public var buildID: String?
        public var file: String?
        public var fileFound: Bool
        /// Nil when either build-id is unknown.
        public var buildIDMatches: Bool?
        public var imageInCore: Bool
        public var debugInfo: String?
        public var symbols: Int
    }

    public var modules: [Row]
    public var warnings: [String]

    public init(_ set: ModuleSet) {
        modules = set.modules.map { module in
            Row(name: module.shortName, path: module.name, start: hex(module.start), end: hex(module.end),
                buildID: module.coreBuildID?.description, file: module.file, fileFound: module.fileFound,
                buildIDMatches: module.buildIDMatches, imageInCore: module.imageInCore,
                debugInfo: module.debugInfo, symbols: module.symbolCount)
        }
        warnings = set.warnings
    }
}
