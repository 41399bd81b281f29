import Allocators
import Analysis
import ELFCore
import Foundation
import Testing
import TestFixtures

/// The heap profile read from a core of Samples/jemalloc-prof.c against jemalloc's own
/// prof.dump written at the same moment, and the program's truth per call site.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb (make test installs them)"))
struct JemallocProfileTests {
    struct Loaded {
        let sample: SampleCore
        let core: CoreFile
        let heap: JemallocHeap
        let profile: JemallocProfile
        let dump: JemallocHeapDump
    }

    static func load(lgSample: Int, count: Int = 50, kernel: Bool = false) throws -> Loaded {
        let sample = try SampleCores.core("jemalloc-prof", [String(lgSample), String(count)], kernel: kernel)
        #expect(sample.truth["prof_dump"] as? Bool == true, "the sample could not write its prof.dump")
        let core = try CoreFile(path: sample.path)
        let heap = try #require(try JemallocHeap.read(core: core))
        let dump = try JemallocHeapDump(path: String(sample.path.dropLast(".core".count)) + ".heap")
        return Loaded(sample: sample, core: core, heap: heap, profile: JemallocProfile.read(heap: heap, core: core), dump: dump)
    }

    /// Per stack (the exact return addresses), objects and bytes, in total and per thread.
    static func counts(_ allocations: [JemallocSampledAllocation]) -> [[UInt64]: (total: JemallocHeapDump.Counts, threads: [UInt64: JemallocHeapDump.Counts])] {
        var result: [[UInt64]: (total: JemallocHeapDump.Counts, threads: [UInt64: JemallocHeapDump.Counts])] = [:]
        for allocation in allocations {
            var entry = result[allocation.frames] ?? (JemallocHeapDump.Counts(objects: 0, bytes: 0), [:])
            entry.total.objects += 1
            entry.total.bytes += allocation.size
            entry.threads[allocation.threadUID, default: JemallocHeapDump.Counts(objects: 0, bytes: 0)].objects += 1
            entry.threads[allocation.threadUID]!.bytes += allocation.size
            result[allocation.frames] = entry
        }
        return result
    }

    /// gcore's core and the kernel's (which leaves the modules' code out) alike.
    @Test(arguments: [false, true])
    func everySampledStackEqualsJemallocsOwnDump(kernel: Bool) throws {
        let loaded = try Self.load(lgSample: 0, kernel: kernel)
        #expect(loaded.dump.samplingInterval == 1)
        #expect(loaded.profile.isEnabled)
        #expect(loaded.profile.droppedCount == 0, "\(loaded.profile.dropped)")
        #expect(loaded.profile.warnings.isEmpty, "\(loaded.profile.warnings)")
        let found = Self.counts(loaded.profile.allocations)
        let live = loaded.dump.stacks.filter { $0.total.objects > 0 }
        #expect(Set(found.keys) == Set(live.map(\.frames)))
        for stack in live {
            let mine = try #require(found[stack.frames], "stack \(stack.frames.map { String($0, radix: 16) }) missing")
            #expect(mine.total == stack.total)
            #expect(mine.threads == stack.threads)
        }
        #expect(UInt64(loaded.profile.allocations.count) == loaded.dump.total.objects)
        #expect(loaded.profile.allocations.reduce(0) { $0 + $1.size } == loaded.dump.total.bytes)
    }

    /// Every object of the sample starts with its call site's tag; per site, the sampled objects
    /// and the leaked ones the analysis finds equal what the program says it did.
    @Test func leakedAndLivePerCallSiteEqualTheProgramsTruth() throws {
        let loaded = try Self.load(lgSample: 0)
        let analysis = LeakAnalysis(core: loaded.core, modules: nil)
        let stacks = StackProfile(profile: loaded.profile, table: analysis.table, reachability: analysis.reachability,
                                  allocatorCode: loaded.heap.detection.moduleRanges)
        #expect(stacks.notInTable == 0)
        var siteOfStack: [[UInt64]: UInt64] = [:]
        for allocation in loaded.profile.allocations {
            guard let word = loaded.core.addressSpace.readU64(allocation.address), word >> 32 == 0x5052_4F46 else { continue }
            #expect(siteOfStack[allocation.frames].map { $0 == word & 0xff } ?? true, "one stack, two call sites")
            siteOfStack[allocation.frames] = word & 0xff
        }
        let sites = try #require(loaded.sample.truth["sites"] as? [[String: Any]])
        for (number, site) in sites.enumerated() {
            let mine = stacks.stacks.filter { siteOfStack[$0.frames] == UInt64(number) }
            let name = site["function"] as? String ?? "?"
            #expect(mine.reduce(0) { $0 + $1.objects } == (site["live"] as? Int), "\(name): live")
            #expect(mine.reduce(0) { $0 + $1.leakedObjects } == (site["leaked"] as? Int), "\(name): leaked")
            // Every caller frame lies outside jemalloc, and the first one is in the program.
            for stack in mine {
                #expect(stack.firstCallerFrame > 0)
                #expect(!loaded.heap.detection.moduleRanges.contains { $0.contains(stack.frames[stack.firstCallerFrame]) })
            }
        }
    }

    /// At jemalloc's default rate (1 in 2^19 bytes) only some allocations are sampled: the
    /// stacks found are the dump's, each with its sampled count.
    @Test func atTheDefaultRateTheSampledStacksEqualTheDumps() throws {
        // 10 000 objects per call site: about 4 MB, so several allocations are sampled.
        let loaded = try Self.load(lgSample: 19, count: 10_000)
        #expect(loaded.dump.samplingInterval == 1 << 19)
        #expect(loaded.profile.isEnabled)
        #expect(!loaded.profile.allocations.isEmpty)
        #expect(loaded.profile.droppedCount == 0, "\(loaded.profile.dropped)")
        let found = Self.counts(loaded.profile.allocations)
        let live = loaded.dump.stacks.filter { $0.total.objects > 0 }
        #expect(Set(found.keys) == Set(live.map(\.frames)))
        for stack in live {
            #expect(found[stack.frames]?.total.objects == stack.total.objects)
        }
    }

    @Test func aProcessWithoutProfilingHasNoProfile() throws {
        let sample = try SampleCores.core("jemalloc")
        let core = try CoreFile(path: sample.path)
        let heap = try #require(try JemallocHeap.read(core: core))
        let profile = JemallocProfile.read(heap: heap, core: core)
        #expect(!profile.isEnabled)
        #expect(profile.allocations.isEmpty)
    }
}
