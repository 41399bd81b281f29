import Allocators
import Testing
import TestFixtures

struct JemallocSizeClassTests {
    @Test func defaultClassesHaveJemallocsCounts() {
        let classes = JemallocSizeClasses()
        // SC_NBINS and SC_NSIZES of a 4 KiB page, 16-byte quantum, 64-bit build.
        #expect(classes.binCount == 36)
        #expect(classes.count == 232)
        #expect(classes.classes.prefix(12).map(\.size) == [8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224])
        #expect(classes[35]?.size == 14336)
        #expect(classes[36]?.size == 16384)
        #expect(classes[36]?.isBin == false)
        #expect(classes.index(forRequest: 24) == 2)
        #expect(classes.index(forRequest: 20000) == 37)
    }

    @Test func slabsHoldWholeRegions() {
        for lgPage in [12, 14, 16] {
            let classes = JemallocSizeClasses(lgPage: lgPage)
            var previous: UInt64 = 0
            for sizeClass in classes.classes {
                #expect(sizeClass.size > previous)
                previous = sizeClass.size
                guard sizeClass.isBin else { continue }
                let slab = UInt64(sizeClass.slabPages) << UInt64(lgPage)
                #expect(UInt64(sizeClass.regionsPerSlab) * sizeClass.size == slab)
            }
            #expect(classes.classes.filter(\.isBin).last!.size < UInt64(1) << UInt64(lgPage + 2))
        }
    }

    @Test(.enabled(if: SampleCores.canMakeCores, "needs gcc and gdb"))
    func everyClassMatchesMallctl() throws {
        let truth = JemallocTruth(try SampleCores.core("jemalloc"))
        let classes = JemallocSizeClasses()
        #expect(truth.binClasses.count == classes.binCount)
        for bin in truth.binClasses {
            let computed = try #require(classes[bin.bin])
            #expect(computed.size == bin.size, "bin \(bin.bin)")
            #expect(computed.regionsPerSlab == bin.regions, "bin \(bin.bin)")
            #expect(UInt64(computed.slabPages) * 4096 == bin.slabSize, "bin \(bin.bin)")
        }
        #expect(truth.largeSizes.count == classes.count - classes.binCount)
        for (offset, size) in truth.largeSizes.enumerated() {
            #expect(classes[classes.binCount + offset]?.size == size, "lextent \(offset)")
        }
    }
}
