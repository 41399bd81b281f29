import Symbols
import Testing

struct StrideEstimateTests {
    @Test func objectsInARowGiveTheirStride() throws {
        // 100 objects 48 bytes apart, in three runs separated by other memory.
        func run(from start: UInt64, count: Int) -> [UInt64] { (0..<count).map { start + UInt64($0) * 48 } }
        let addresses = run(from: 0x1000, count: 40) + run(from: 0x9000, count: 30) + run(from: 0x20000, count: 30)
        let estimate = try #require(StrideEstimate(addresses: addresses.shuffled()))
        #expect(estimate.stride == 48)
        #expect(estimate.samples == 99)
        #expect(estimate.confidence == 97.0 / 99.0)
    }

    @Test func interleavedObjectsLowerTheConfidence() throws {
        var addresses: [UInt64] = [0x1000]
        for index in 0..<50 { addresses.append(addresses[index] + (index % 2 == 0 ? 64 : 96)) }
        let estimate = try #require(StrideEstimate(addresses: addresses))
        #expect(estimate.confidence < 0.6)
    }

    @Test func tooFewObjectsOrOnlyGapsGiveNothing() {
        #expect(StrideEstimate(addresses: [0x1000]) == nil)
        #expect(StrideEstimate(addresses: [0x1000, 0x1000 + StrideEstimate.maxStride + 8]) == nil)
    }
}

struct DemanglerTests {
    @Test func typeNamesAsTypeinfoHoldsThem() {
        #expect(Demangler.demangleType("3Dog") == "Dog")
        #expect(Demangler.demangleType("N6shapes6CircleE") == "shapes::Circle")
        #expect(Demangler.demangleType("*N12_GLOBAL__N_16HiddenE") == "(anonymous namespace)::Hidden")
        #expect(Demangler.demangleType("3BoxIiE") == "Box<int>")
    }

    @Test func symbolsAndGarbage() {
        #expect(Demangler.demangle("_ZTV3Dog") == "vtable for Dog")
        #expect(Demangler.demangle("") == nil)
        #expect(Demangler.demangle("not a name!") == nil)
    }
}
