import ELFCore
import Regions
import Symbols
import Testing
import TestFixtures

/// The checks every census of a `classes` core must pass, however the classes were found.
enum CensusExpectations {
    struct Found {
        let census: TypeCensus
        let modules: ModuleSet
    }

    /// The core at `corePath`, its modules found with `options`, and an identifier over them.
    static func open(_ corePath: String, options: SymbolOptions = SymbolOptions()) throws -> (CoreFile, TypeIdentifier) {
        let core = try CoreFile(path: corePath)
        let modules = try ModuleSet(core: core, options: options)
        return (core, TypeIdentifier(modules: modules, memory: ProcessMemory(core: core, modules: modules)))
    }

    /// Opens `corePath` with `options` and counts the heap's vptrs.
    static func census(_ corePath: String, options: SymbolOptions = SymbolOptions()) throws -> Found {
        let (core, identifier) = try open(corePath, options: options)
        let census = TypeCensus.scan(regions: RegionMap(core: core).select(.heapOnly), identifier: identifier)
        return Found(census: census, modules: identifier.modules)
    }

    /// Counts, names, vtables, secondary vptrs and modules equal the truth; `skipping` names
    /// classes whose module is deliberately unavailable (they may be missing, never wrong).
    static func check(_ census: TypeCensus, against truth: ClassesTruth, skipping: Set<String> = [],
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let entries = census.entries
        for expected in truth.classes {
            let named = entries.filter { $0.type.name == expected.name }
            if skipping.contains(expected.name) && named.isEmpty { continue }
            let total = named.reduce(0) { $0 + $1.objects }
            #expect(total == expected.count, "\(expected.name): \(total) objects, truth \(expected.count)",
                    sourceLocation: sourceLocation)
            guard let entry = named.first(where: { $0.type.primaryAddressPoint == expected.vtable }) else {
                Issue.record("\(expected.name): no class with vtable \(hex(expected.vtable))", sourceLocation: sourceLocation)
                continue
            }
            #expect(entry.objects == expected.count, sourceLocation: sourceLocation)
            #expect(entry.type.module == expected.module, "\(expected.name) module", sourceLocation: sourceLocation)
            #expect(entry.type.mangledVtable == expected.mangledVtable, sourceLocation: sourceLocation)
            #expect(Set(entry.type.secondaryAddressPoints) == Set(expected.secondaryVptrs),
                    "\(expected.name) secondary address points", sourceLocation: sourceLocation)
            #expect(entry.secondaryVptrs == expected.count * expected.secondaryVptrs.count,
                    "\(expected.name) secondary vptrs", sourceLocation: sourceLocation)
        }
        let known = Set(truth.classes.map(\.name))
        for extra in entries where !known.contains(extra.type.name) {
            #expect(extra.type.name == ClassesTruth.memberClass, "unexpected class \(extra.type.name)",
                    sourceLocation: sourceLocation)
            #expect(extra.objects == truth.stringstream?.count, sourceLocation: sourceLocation)
        }
    }

    static func entry(_ census: TypeCensus, named name: String) -> TypeCensus.Entry? {
        census.entries.first { $0.type.name == name }
    }
}
