import ELFCore
import Foundation
import Symbols
import Testing
import TestFixtures

/// DWARF pointer layouts against gdb's own reading of the same binary's DWARF.
@Suite(.enabled(if: SampleCores.canMakeCores, "needs gcc, g++ and gdb (make test installs them)"))
struct PointerLayoutTests {
    /// gdb evaluates `expressions` against the sample's executable and prints one number each.
    func gdbNumbers(_ executable: String, _ expressions: [String]) throws -> [UInt64] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gdb", "-batch", "-nx"] + expressions.flatMap { ["-ex", "print (unsigned long)(\($0))"] } + [executable]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(separator: "\n").compactMap { line in
            line.split(separator: "=").last.flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        }
    }

    /// `Session` of the service sample: a vptr, a string, a vector of pointers, a double, char
    /// arrays. Its layout must hold the vptr, the string's pointer and the vector's three
    /// pointers, and none of the characters, the string's length or the double.
    @Test func sessionLayoutMatchesGdb() throws {
        let sample = try SampleCores.core("service")
        let core = try CoreFile(path: sample.path)
        let modules = try ModuleSet(core: core)
        let executable = try #require(modules.executable)
        let layout = try #require(modules.dwarfPointerLayouts(of: executable, names: ["Session"])["Session"])
        let numbers = try gdbNumbers(try #require(executable.file), [
            "sizeof(Session)", "&((Session*)0)->user", "&((Session*)0)->pending", "&((Session*)0)->score",
            "&((Session*)0)->inbox", "sizeof(((Session*)0)->inbox)",
        ])
        try #require(numbers.count == 6, "gdb printed \(numbers)")
        let (size, user, pending, score, inbox, inboxSize) =
            (numbers[0], numbers[1], numbers[2], numbers[3], numbers[4], numbers[5])
        #expect(layout.size == size)
        let slots = Set(layout.pointerSlots.map { UInt64($0) * 8 })
        #expect(slots.contains(0), "the vptr")
        #expect(slots.contains(user), "std::string's pointer")
        #expect(!slots.contains(user + 8) && !slots.contains(user + 16), "a string's length and local buffer")
        #expect(slots.isSuperset(of: [pending, pending + 8, pending + 16]), "the vector's three pointers")
        #expect(!slots.contains(score), "a double")
        let inboxWords = Set(stride(from: (inbox + 7) & ~7, to: inbox + inboxSize, by: 8))
        #expect(slots.isDisjoint(with: inboxWords), "a 160-byte char array")
    }
}
