import Foundation

/// Finds the file for a module of a core: `--exe` for the executable, the recorded path under
/// `--sysroot`, the recorded path itself, then `.build-id/xx/yyyy` under each debug directory.
/// A file is accepted only when its build-id equals the core's (or the core kept none).
struct ModuleFileResolver {
    struct Resolution {
        /// The accepted file, or the first file found whose build-id differs.
        var path: String?
        var buildID: BuildID?
        var accepted: Bool
        /// Every path tried, for the warning when nothing fits.
        var tried: [String]
    }

    let options: SymbolOptions

    func candidates(name: String, isExecutable: Bool, buildID: BuildID?) -> [String] {
        var paths: [String] = []
        if isExecutable, let executable = options.executable { paths.append(executable) }
        if name.hasPrefix("/") {
            if options.sysroot != nil { paths.append(options.hostPath(for: name)) }
            paths.append(name)
        }
        if let buildID, buildID.bytes.count >= 2 {
            let text = buildID.description
            let relative = "/.build-id/" + text.prefix(2) + "/" + text.dropFirst(2)
            paths += options.allDebugDirectories.map { SymbolOptions.join($0, relative) }
        }
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    func resolve(name: String, isExecutable: Bool, coreBuildID: BuildID?) -> Resolution {
        var result = Resolution(path: nil, buildID: nil, accepted: false, tried: [])
        for path in candidates(name: name, isExecutable: isExecutable, buildID: coreBuildID) {
            result.tried.append(path)
            guard FileManager.default.isReadableFile(atPath: path), ElfImage.isRegularFile(path: path) else { continue }
            let fileBuildID = ElfImage.buildID(path: path)
            if coreBuildID == nil || fileBuildID == coreBuildID {
                return Resolution(path: path, buildID: fileBuildID, accepted: true, tried: result.tried)
            }
            if result.path == nil {
                result.path = path
                result.buildID = fileBuildID
            }
        }
        // Nothing on this machine fits: ask the debuginfod servers, if the user named any.
        if name.hasPrefix("/"), let coreBuildID, let fetched = DebuginfodClient.executable(buildID: coreBuildID) {
            result.tried.append("debuginfod")
            if ElfImage.buildID(path: fetched) == coreBuildID {
                return Resolution(path: fetched, buildID: coreBuildID, accepted: true, tried: result.tried)
            }
        }
        return result
    }
}
