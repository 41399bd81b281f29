import ELFCore
import Regions
import Symbols
import Testing
import TestFixtures

/// `TypeCensus` on real cores of the `classes` sample, with every file where the core says.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ClassesCensusTests {
    @Test func gcoreCountsEqualTruth() throws {
        let sample = try SampleCores.core("classes")
        let truth = try ClassesTruth(sample)
        let found = try CensusExpectations.census(sample.path)
        CensusExpectations.check(found.census, against: truth)
        #expect(found.modules.warnings.isEmpty, "\(found.modules.warnings)")
    }

    @Test func countsScaleWithTheMultiplier() throws {
        let sample = try SampleCores.core("classes", ["3"])
        let truth = try ClassesTruth(sample)
        #expect(truth.classes.first?.count == 900)
        CensusExpectations.check(try CensusExpectations.census(sample.path).census, against: truth)
    }

    @Test func sizesComeFromDWARF() throws {
        let sample = try SampleCores.core("classes")
        let truth = try ClassesTruth(sample)
        let census = try CensusExpectations.census(sample.path).census
        // The sample is built with -g; libstdc++'s own classes have no DWARF here.
        for expected in truth.classes where !expected.name.hasPrefix("std::") {
            let entry = try #require(CensusExpectations.entry(census, named: expected.name))
            #expect(entry.size == .dwarf(expected.size), "\(expected.name)")
            #expect(entry.estimatedBytes == expected.size * UInt64(expected.count))
        }
    }

    @Test func symbolsNameEveryClassOfTheProgram() throws {
        let sample = try SampleCores.core("classes")
        let census = try CensusExpectations.census(sample.path).census
        for entry in census.entries {
            #expect(entry.type.source == .symbols, "\(entry.type.name) found from \(entry.type.source)")
            #expect(entry.type.vtableSymbol != nil)
        }
    }

    /// The kernel leaves read-only file mappings out of the core; typeinfo names live there,
    /// so naming classes depends on reading the module files instead.
    @Test func kernelCoreReadsTypeNamesFromModuleFiles() throws {
        let sample: SampleCore
        do {
            sample = try SampleCores.core("classes", kernel: true)
        } catch let error as SampleCoreError {
            withKnownIssue("kernel cores cannot be made on this machine") { throw error }
            return
        }
        let truth = try ClassesTruth(sample)
        let found = try CensusExpectations.census(sample.path)
        CensusExpectations.check(found.census, against: truth)

        let core = try CoreFile(path: sample.path)
        let dog = try #require(CensusExpectations.entry(found.census, named: "Dog"))
        let memory = ProcessMemory(core: core, modules: found.modules)
        let namePointer = try #require(memory.readU64(dog.type.typeinfo + 8))
        #expect(memory.readCString(namePointer) == "3Dog")
        #expect(memory.isFromModuleFile(namePointer))
        #expect(ProcessMemory(addressSpace: core.addressSpace).readCString(namePointer) == nil)
    }

    @Test func objectStartsGiveTheSameCounts() throws {
        let sample = try SampleCores.core("classes")
        let truth = try ClassesTruth(sample)
        let (core, identifier) = try CensusExpectations.open(sample.path)
        // The object table the sample keeps (mmap'ed, one pointer per object).
        let table = try #require(truthAddress(sample.truth["object_table"]))
        let total = truth.classes.reduce(0) { $0 + $1.count }
        let starts = try (0..<total).map { try #require(core.addressSpace.readU64(table + UInt64($0) * 8)) }
        let census = TypeCensus.count(objectStarts: starts, identifier: identifier)
        for expected in truth.classes {
            let entry = try #require(CensusExpectations.entry(census, named: expected.name))
            #expect(entry.objects == expected.count, "\(expected.name)")
            #expect(entry.type.primaryAddressPoint == expected.vtable)
        }
        #expect(census.entries.count == truth.classes.count)
        #expect(identifier.primaryClass(of: truth.classes[0].vtable)?.name == truth.classes[0].name)
        #expect(identifier.primaryClass(of: truth.classes[2].secondaryVptrs[0]) == nil)
    }

    @Test func vtableGroupsHoldEveryAddressPoint() throws {
        let sample = try SampleCores.core("classes")
        let truth = try ClassesTruth(sample)
        let (_, identifier) = try CensusExpectations.open(sample.path)
        let catalog = VtableCatalog(modules: identifier.modules, memory: identifier.memory)
        for expected in truth.classes {
            let hit = try #require(catalog.lookup(expected.vtable), "\(expected.name)")
            #expect(hit.isPrimary)
            let type = catalog.classes[hit.classIndex]
            #expect(type.name == expected.name)
            #expect(type.secondaryAddressPoints == expected.secondaryVptrs, "\(expected.name)")
            for secondary in expected.secondaryVptrs {
                #expect(catalog.lookup(secondary) == AddressPointHit(classIndex: hit.classIndex, isPrimary: false))
            }
        }
    }
}
