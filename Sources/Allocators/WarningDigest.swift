/// Damage repeats itself (every bin of a forged arena, every slot of a cleared map): a heap
/// that yields thousands of warnings of one kind must still print a readable, bounded list.
/// Warnings of one kind — the same text once addresses and numbers are blanked out — keep
/// their first few examples, then one line saying how many more there were.
public enum WarningDigest {
    /// `warnings` in their order, at most `examples` of each kind followed by
    /// "… and N more like this", and at most `kinds` kinds (the rest summed in a last line).
    public static func digest(_ warnings: [String], examples: Int = 3, kinds: Int = 40) -> [String] {
        guard warnings.count > examples else { return warnings }
        var order: [String] = []
        var kept: [String: [String]] = [:]
        var extra: [String: Int] = [:]
        for warning in warnings {
            let key = kind(of: warning)
            if kept[key] == nil {
                order.append(key)
                kept[key] = []
            }
            if kept[key]!.count < examples { kept[key]!.append(warning) } else { extra[key, default: 0] += 1 }
        }
        var out: [String] = []
        var droppedKinds = 0
        var droppedWarnings = 0
        for (index, key) in order.enumerated() {
            guard index < kinds else {
                droppedKinds += 1
                droppedWarnings += kept[key]!.count + (extra[key] ?? 0)
                continue
            }
            out += kept[key]!
            if let more = extra[key] { out.append("… and \(more) more like this") }
        }
        if droppedKinds > 0 { out.append("… and \(droppedWarnings) more warnings of \(droppedKinds) other kinds") }
        return out
    }

    /// The warning with every run of digits (decimal or hex, with its 0x) replaced by one `#`.
    /// Over UTF-8 bytes: it runs for every warning of every walk, and numbers are ASCII.
    public static func kind(of warning: String) -> String {
        var key: [UInt8] = []
        key.reserveCapacity(warning.utf8.count)
        var inNumber = false
        var previous: UInt8 = UInt8(ascii: " ")
        for byte in warning.utf8 {
            let isDigit = byte &- UInt8(ascii: "0") < 10
            let isHexLetter = (byte | 0x20) &- UInt8(ascii: "a") < 6
            let continuesNumber = inNumber && (isDigit || isHexLetter || (byte == UInt8(ascii: "x") && previous == UInt8(ascii: "0")))
            if isDigit || continuesNumber {
                if !inNumber { key.append(UInt8(ascii: "#")) }
                inNumber = true
            } else {
                inNumber = false
                key.append(byte)
            }
            previous = byte
        }
        return String(decoding: key, as: UTF8.self)
    }
}
