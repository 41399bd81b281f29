import ELFCore

/// `--context`: the bytes around a hit as hex and ASCII, 16 per line, like `xxd`. Only bytes in
/// the core are shown; the dump stops at a gap.
enum HexDump {
    static func lines(memory: AddressSpace, around address: UInt64, length: Int, context: Int) -> [String] {
        let wanted = UInt64(context)
        let start = (address >= wanted ? address - wanted : 0) & ~15
        var end = address &+ UInt64(length) &+ wanted
        end = (end + 15) & ~15
        var lines: [String] = []
        var line = start
        while line < end {
            guard let bytes = memory.read(line, count: 16) ?? partial(memory, line) else {
                line += 16
                continue
            }
            let hexPart = bytes.map(hexByte).joined(separator: " ")
            let padding = String(repeating: " ", count: (16 - bytes.count) * 3)
            let text = String(bytes.map { (0x20...0x7e).contains($0) ? Character(Unicode.Scalar($0)) : "." })
            let marker = (line..<(line + 16)).contains(address) ? ">" : " "
            lines.append("\(marker) \(hex(line)): \(hexPart)\(padding)  |\(text)|")
            line += 16
        }
        return lines
    }

    /// The raw bytes around a hit for JSON, within the hit's segment: `context` bytes before and
    /// after the match, clipped to what the core holds.
    static func window(memory: AddressSpace, around address: UInt64, length: Int, context: Int) -> (start: UInt64, bytes: [UInt8])? {
        guard let segment = memory.segment(containing: address) else { return nil }
        let low = max(segment.start, address >= UInt64(context) ? address - UInt64(context) : 0)
        let high = min(segment.presentEnd, address &+ UInt64(length) &+ UInt64(context))
        guard high > low, let bytes = memory.read(low, count: Int(high - low)) else { return nil }
        return (low, bytes)
    }

    /// The present prefix of a 16-byte line at the end of a segment's present bytes.
    private static func partial(_ memory: AddressSpace, _ address: UInt64) -> [UInt8]? {
        var bytes: [UInt8] = []
        while bytes.count < 16, let byte = memory.readU8(address + UInt64(bytes.count)) { bytes.append(byte) }
        return bytes.isEmpty ? nil : bytes
    }
}
