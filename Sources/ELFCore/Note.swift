/// One ELF note record: owner name, type, and a bounds-checked view of its descriptor.
public struct Note {
    public static let ntPRStatus: UInt32 = 1
    public static let ntPRPSInfo: UInt32 = 3
    public static let ntAuxv: UInt32 = 6
    public static let ntFile: UInt32 = 0x4649_4c45
    public static let ntSigInfo: UInt32 = 0x5349_4749

    public let name: String
    public let type: UInt32
    public let descriptor: ByteReader

    /// Splits a PT_NOTE payload into records. Stops at the first record that does not fit and
    /// reports it, keeping the records before it: one bad note must not hide the threads.
    public static func parse(_ payload: ByteReader) -> (notes: [Note], problem: String?) {
        var notes: [Note] = []
        var offset: UInt64 = 0
        let total = UInt64(payload.count)
        while offset < total {
            guard let nameSize = payload.u32(offset), let descSize = payload.u32(offset &+ 4),
                  let type = payload.u32(offset &+ 8) else {
                return (notes, "note header at note offset \(offset) is cut short")
            }
            let nameStart = offset + 12
            let descStart = nameStart + align4(UInt64(nameSize))
            let (next, overflow) = descStart.addingReportingOverflow(align4(UInt64(descSize)))
            guard !overflow, descStart <= total,
                  let descriptor = payload.slice(descStart, UInt64(descSize)) else {
                return (notes, "note of type 0x\(String(type, radix: 16)) claims \(descSize) descriptor bytes past the end of its segment")
            }
            let name = payload.fixedString(nameStart, length: Int(nameSize)) ?? ""
            notes.append(Note(name: name, type: type, descriptor: descriptor))
            offset = min(next, total)
        }
        return (notes, nil)
    }

    private static func align4(_ value: UInt64) -> UInt64 { (value + 3) & ~3 }
}
