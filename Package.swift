// swift-tools-version:5.9
import PackageDescription

// Layers, each importing only those above it in this list:
// ELFCore → Regions → ScanKernels → Symbols (the C interop, via CElfutils) → Allocators
// → Analysis → HTMLReport (the `report` page's rendering), PprofEncoding (`profile --format pprof`)
// → HeapscanCLI (parsing and rendering) → heapscan.
// CoreSources sits beside ELFCore: it turns what the user names (a compressed core, a pipe, a
// live process) into the bytes of one ELF core that ELFCore maps; only HeapscanCLI imports it.
let package = Package(
    name: "heapscan",
    products: [
        .executable(name: "heapscan", targets: ["heapscan"]),
        .executable(name: "heapscan-bench", targets: ["heapscan-bench"]),
        .library(name: "HeapscanKit", targets: ["ELFCore", "Regions", "ScanKernels", "Symbols", "Allocators", "Analysis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/JohnSundell/Plot", from: "0.14.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // The SIGBUS handler behind ELFCore's MappingGuard: signal handlers must be async-signal-safe C.
        .target(name: "CMappingGuard"),
        .target(name: "ELFCore", dependencies: ["CMappingGuard"]),
        .target(name: "Regions", dependencies: ["ELFCore"]),
        .systemLibrary(name: "CCompression", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev", "liblzma-dev", "liblz4-dev", "zlib1g-dev"])]),
        .systemLibrary(name: "CProcess"),
        .target(name: "CoreSources", dependencies: ["ELFCore", "CCompression", "CProcess"]),
        .target(name: "ScanKernels", dependencies: ["ELFCore", "Regions"]),
        .systemLibrary(name: "CElfutils", pkgConfig: "libdw", providers: [.apt(["libdw-dev", "libelf-dev", "libdebuginfod-dev"])]),
        .target(name: "Symbols", dependencies: ["ELFCore", "Regions", "ScanKernels", "CElfutils"]),
        .target(name: "Allocators", dependencies: ["ELFCore", "Regions", "ScanKernels", "Symbols"]),
        .target(name: "Analysis", dependencies: ["ELFCore", "Regions", "ScanKernels", "Symbols", "Allocators"]),
        .target(name: "HTMLReport", dependencies: [
            "ELFCore", "Regions", "Allocators", "Analysis", .product(name: "Plot", package: "Plot"),
        ]),
        // profile.pb.swift is generated from profile.proto (kept beside it) by protoc-gen-swift.
        .target(name: "PprofEncoding", dependencies: [
            "Symbols", "Analysis", "CCompression", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], exclude: ["profile.proto"]),
        .target(name: "HeapscanCLI", dependencies: [
            "ELFCore", "CoreSources", "Regions", "ScanKernels", "Symbols", "Allocators", "Analysis", "HTMLReport", "PprofEncoding",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "heapscan", dependencies: ["HeapscanCLI"]),
        .executableTarget(name: "heapscan-bench", dependencies: ["ELFCore", "Regions", "ScanKernels", "Symbols", "Allocators", "Analysis"]),
        .target(name: "TestFixtures", path: "Tests/Fixtures"),
        .testTarget(name: "ELFCoreTests", dependencies: ["ELFCore", "TestFixtures"]),
        .testTarget(name: "ScanKernelsTests", dependencies: ["ELFCore", "Regions", "ScanKernels", "TestFixtures"]),
        .testTarget(name: "RegionsTests", dependencies: ["ELFCore", "Regions", "TestFixtures"]),
        .testTarget(name: "SymbolsTests", dependencies: ["ELFCore", "Regions", "ScanKernels", "Symbols", "TestFixtures"]),
        .testTarget(name: "AnalysisTests", dependencies: ["ELFCore", "Regions", "Symbols", "Allocators", "Analysis", "TestFixtures"]),
        .testTarget(name: "AllocatorsTests", dependencies: ["ELFCore", "Regions", "Symbols", "Allocators", "Analysis", "TestFixtures"]),
        .testTarget(name: "JemallocTests", dependencies: ["Allocators", "Analysis", "ELFCore", "Regions", "TestFixtures"]),
        .testTarget(name: "CoreSourcesTests", dependencies: ["CoreSources", "ELFCore", "TestFixtures"]),
        .testTarget(name: "CLITests", dependencies: [
            "HeapscanCLI", "ELFCore", "PprofEncoding", "TestFixtures", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .testTarget(name: "HTMLReportTests", dependencies: ["HTMLReport", "Analysis", "TestFixtures"]),
    ]
)
