import CElfutils
import ELFCore
import Foundation

/// The modules of a core and the files found for them. libdwfl reports the modules from the
/// core (`dwfl_core_file_report`: NT_FILE, the link map, build-ids); heapscan then finds each
/// file itself (`ModuleFileResolver`: `--exe`, `--sysroot`, build-id directories), checks its
/// build-id, and reports it in a second libdwfl session for symbols and DWARF. Missing or
/// mismatched files are warnings: everything that needs only the core still works.
/// libdwfl is not thread-safe: one set is used from one thread at a time.
public final class ModuleSet: @unchecked Sendable {
    public let modules: [Module]
    public let warnings: [String]
    public let options: SymbolOptions

    /// Modules as the core shows them (in-core images only: no file is opened here).
    private let coreSession: DwflSession
    /// Modules from the files found on disk; the unwinder runs in it too.
    let fileSession: DwflSession
    /// Where each module's symbols and DWARF come from, by `Module.index`: its file, else the
    /// image in the core, else nothing.
    let handles: [OpaquePointer?]
    private let coreDescriptor: Int32
    let coreElf: OpaquePointer
    /// libelf maps the core a second time; reads there past a new end are caught like ours.
    private let coreElfGuard: MappingGuard?
    /// The unwinder's answers: whether the core's threads are attached to `fileSession` (nil
    /// until first asked), and each thread's frames once unwound.
    var threadsAttached: Bool?
    var framesByThread: [Int32: [StackFrame]] = [:]

    public enum Failure: Error, CustomStringConvertible {
        case libdwfl(String)

        public var description: String {
            switch self {
            case .libdwfl(let message): return "libdwfl: \(message)"
            }
        }
    }

    public init(core: CoreFile, options: SymbolOptions = SymbolOptions()) throws {
        self.options = options
        elf_version(UInt32(EV_CURRENT))
        coreDescriptor = open(core.file.openablePath, O_RDONLY | O_CLOEXEC)
        guard coreDescriptor >= 0 else {
            throw Failure.libdwfl("cannot open \(core.path): \(String(cString: strerror(errno)))")
        }
        guard let elf = elf_begin(coreDescriptor, ELF_C_READ_MMAP, nil) else {
            close(coreDescriptor)
            throw Failure.libdwfl("elf_begin: \(String(cString: elf_errmsg(-1)))")
        }
        coreElf = elf
        var rawSize = 0
        let raw = elf_rawfile(elf, &rawSize)
        coreElfGuard = raw.flatMap {
            MappingGuard(watching: UnsafeRawBufferPointer(start: $0, count: rawSize), name: core.path)
        }
        do {
            coreSession = try DwflSession(debuginfoPath: options.debuginfoPath)
            fileSession = try DwflSession(debuginfoPath: options.debuginfoPath)
        } catch {
            coreElfGuard?.stop()
            elf_end(elf)
            close(coreDescriptor)
            throw error
        }

        var warnings: [String] = []
        dwfl_report_begin(coreSession.handle)
        if dwfl_core_file_report(coreSession.handle, elf, nil) < 0 {
            warnings.append("libdwfl found no modules in the core: \(Self.lastError())")
        }
        dwfl_report_end(coreSession.handle, nil, nil)
        let reported = Self.disjoint(coreSession.modules(), warnings: &warnings)

        let mainAddress = core.auxVector?.programHeaders ?? core.auxVector?.entryPoint
        let resolver = ModuleFileResolver(options: options)
        var found: [Found] = []
        dwfl_report_begin(fileSession.handle)
        for entry in reported {
            found.append(Self.locate(entry.handle, core: core, mainAddress: mainAddress, resolver: resolver,
                                     fileSession: fileSession.handle, warnings: &warnings))
        }
        dwfl_report_end(fileSession.handle, nil, nil)

        var modules: [Module] = []
        var handles: [OpaquePointer?] = []
        for (index, entry) in found.enumerated() {
            let handle = entry.fileHandle ?? (entry.imageInCore ? entry.coreHandle : nil)
            var debugInfo: String?
            var symbolCount = 0
            if let handle {
                var dwarfBias: Dwarf_Addr = 0
                if dwfl_module_getdwarf(handle, &dwarfBias) != nil {
                    var mainFile: UnsafePointer<CChar>?
                    var debugFile: UnsafePointer<CChar>?
                    _ = dwfl_module_info(handle, nil, nil, nil, nil, nil, &mainFile, &debugFile)
                    debugInfo = (debugFile ?? mainFile).map { String(cString: $0) }
                }
                symbolCount = max(0, Int(dwfl_module_getsymtab(handle)))
            }
            modules.append(Module(index: index, name: entry.name, start: entry.start, end: entry.end,
                                  loadBias: entry.bias, isExecutable: entry.isExecutable,
                                  coreBuildID: entry.coreBuildID, file: entry.resolution.path,
                                  fileBuildID: entry.resolution.buildID, fileUsed: entry.fileHandle != nil,
                                  imageInCore: entry.imageInCore && entry.fileHandle == nil,
                                  debugInfo: debugInfo, symbolCount: symbolCount))
            handles.append(handle)
        }
        self.modules = modules
        self.handles = handles
        self.warnings = warnings
    }

    deinit {
        coreElfGuard?.stop()
        elf_end(coreElf)
        close(coreDescriptor)
    }

    /// Modules libdwfl found in the core, by start, without those overlapping an earlier one:
    /// damaged headers in the core (a wrong p_offset puts the core's own ELF header where a
    /// library was) make libdwfl report a module spanning others, and reporting its file over
    /// theirs makes libdw fault.
    private static func disjoint(_ modules: [(handle: OpaquePointer, start: UInt64)],
                                 warnings: inout [String]) -> [(handle: OpaquePointer, start: UInt64)] {
        let ranged = modules.map { module -> (handle: OpaquePointer, start: UInt64, end: UInt64) in
            var start: Dwarf_Addr = 0
            var end: Dwarf_Addr = 0
            _ = dwfl_module_info(module.handle, nil, &start, &end, nil, nil, nil, nil)
            return (module.handle, start, max(start, end))
        }.sorted { $0.start != $1.start ? $0.start < $1.start : $0.end < $1.end }
        var kept: [(handle: OpaquePointer, start: UInt64, end: UInt64)] = []
        for module in ranged {
            if let last = kept.last, module.start < last.end {
                let name = dwfl_module_info(module.handle, nil, nil, nil, nil, nil, nil, nil).map { String(cString: $0) } ?? "?"
                warnings.append("\(name): the core describes it at \(hex(module.start))-\(hex(module.end)), over another module (damaged headers in the core?); skipped")
                continue
            }
            kept.append(module)
        }
        return kept.map { ($0.handle, $0.start) }
    }

    /// The module whose load range contains `address`, O(log n).
    public func module(containing address: UInt64) -> Module? {
        modules.index(containing: address, start: \.start, end: \.end).map { modules[$0] }
    }

    /// Whether `address` lies in a module. Unlike `module(containing:)` it copies no `Module`,
    /// which matters on paths that test every word of an object.
    public func contains(_ address: UInt64) -> Bool {
        modules.index(containing: address, start: \.start, end: \.end) != nil
    }

    /// The executable's module.
    public var executable: Module? { modules.first { $0.isExecutable } }

    static func lastError() -> String {
        dwfl_errmsg(-1).map { String(cString: $0) } ?? "unknown error"
    }

    private struct Found {
        let coreHandle: OpaquePointer
        let name: String
        let start: UInt64
        let end: UInt64
        let bias: UInt64
        let isExecutable: Bool
        let coreBuildID: BuildID?
        let imageInCore: Bool
        let resolution: ModuleFileResolver.Resolution
        let fileHandle: OpaquePointer?
    }

    /// Finds the file of one module reported from the core and reports it in `fileSession`.
    private static func locate(_ handle: OpaquePointer, core: CoreFile, mainAddress: UInt64?,
                               resolver: ModuleFileResolver, fileSession: OpaquePointer,
                               warnings: inout [String]) -> Found {
        var start: Dwarf_Addr = 0
        var end: Dwarf_Addr = 0
        let reportedName = dwfl_module_info(handle, nil, &start, &end, nil, nil, nil, nil).map { String(cString: $0) } ?? "?"
        // libdwfl names modules it matched in the link map by their base name; NT_FILE has the path.
        let name = reportedName.hasPrefix("/") ? reportedName : core.fileMapping(containing: start)?.path ?? reportedName
        var bits: UnsafePointer<UInt8>?
        var noteAddress: GElf_Addr = 0
        let length = dwfl_module_build_id(handle, &bits, &noteAddress)
        let coreBuildID = length > 0 && bits != nil ? BuildID(Array(UnsafeBufferPointer(start: bits, count: Int(length)))) : nil
        // No file is opened here (find_elf declines): an image exists only when the core
        // holds the whole module, as for the vDSO.
        var imageBias: GElf_Addr = 0
        var imageInCore = false
        if let image = dwfl_module_getelf(handle, &imageBias) {
            var size = 0
            if let raw = elf_rawfile(image, &size), size > 0,
               let problem = ModuleImageCheck.problem(in: ByteReader(UnsafeRawBufferPointer(start: raw, count: size)),
                                                      machine: ByteReader(core.file.bytes).u16(18)) {
                warnings.append("\(name): its image in the core is damaged (\(problem)); not used")
            } else {
                imageInCore = true
            }
        }
        let isExecutable = mainAddress.map { $0 >= start && $0 < end } ?? false

        let resolution = resolver.resolve(name: name, isExecutable: isExecutable, coreBuildID: coreBuildID)
        // --exe names the executable; one that does not fit must not be passed over in silence.
        if isExecutable, let executable = resolver.options.executable, resolution.accepted, resolution.path != executable {
            let given = ElfImage.buildID(path: executable).map(String.init(describing:)) ?? "none"
            warnings.append("\(name): --exe \(executable) has build-id \(given), the core's is \(coreBuildID.map(String.init(describing:)) ?? "?"); using \(resolution.path ?? "?") instead")
        }
        var bias = imageInCore ? imageBias : start
        var fileHandle: OpaquePointer?
        if resolution.accepted, let path = resolution.path {
            if !imageInCore, let file = try? MappedFile(path: path),
               let headers = ElfProgramHeaders(ByteReader(file.bytes)), let fileBias = headers.bias(loadedAt: start) {
                bias = fileBias
            }
            fileHandle = dwfl_report_elf(fileSession, name, path, -1, bias, true)
            if fileHandle == nil {
                warnings.append("\(name): libdwfl cannot use \(path): \(lastError())")
            }
        } else if let path = resolution.path {
            warnings.append("\(name): \(path) has build-id \(resolution.buildID.map(String.init(describing:)) ?? "none"), the core's is \(coreBuildID.map(String.init(describing:)) ?? "?"); not used")
        } else if name.hasPrefix("/") || !imageInCore {
            // The vDSO has no file and needs none; any module named by a path should have one.
            let tried = resolution.tried.isEmpty ? "nothing: no path or build-id" : resolution.tried.joined(separator: ", ")
            let consequence = imageInCore ? "using its image in the core (dynamic symbols at most, no DWARF)"
                                          : "its symbols and the read-only data the core left out are unavailable"
            warnings.append("\(name): file not found (tried \(tried)); \(consequence)")
        }
        return Found(coreHandle: handle, name: name, start: start, end: end, bias: bias, isExecutable: isExecutable,
                     coreBuildID: coreBuildID, imageInCore: imageInCore, resolution: resolution, fileHandle: fileHandle)
    }
}
