import Foundation
import Testing
import TestFixtures

/// `show` says what glibc itself keeps where: each thread's tcache header (as `heap --free`
/// lists them) and main_arena's top chunk. (`GlibcPlacesTests` checks each cached chunk's bin.)
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct ShowAllocatorPlacesTests {
    @Test func tcacheHeadersCachedChunksAndTopAreNamed() throws {
        let core = try SampleCores.core("service").path
        let heap = try HeapscanProcess.json(["heap", core, "--free"])
        let free = try #require(heap["free"] as? [String: Any])
        let tcaches = try #require(free["tcaches"] as? [[String: Any]])
        #expect(tcaches.count == 5)
        for tcache in tcaches {
            let address = try #require(tcache["address"] as? String)
            let thread = try #require((tcache["thread"] as? NSNumber)?.intValue)
            let shown = try HeapscanProcess.json(["show", core, address])
            #expect(shown["note"] as? String == "tcache of thread \(thread)", "\(shown)")
        }

        let arenas = try #require(heap["arenas"] as? [[String: Any]])
        let main = try #require(arenas.first { ($0["arena"] as? String ?? "").hasPrefix("main_arena") })
        // The top chunk's first word is the previous chunk's last usable word (glibc's
        // prev_size overlap); its body starts 16 bytes in.
        let top = try #require((main["top"] as? String).flatMap { UInt64($0.dropFirst(2), radix: 16) })
        let shownTop = try HeapscanProcess.json(["show", core, "0x" + String(top + 16, radix: 16)])
        #expect((shownTop["note"] as? String)?.hasPrefix("top chunk of main_arena") == true, "\(shownTop)")
    }
}
