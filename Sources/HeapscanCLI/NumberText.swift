/// `1,234,567`: counts for people; JSON keeps plain numbers.
func grouped<T: BinaryInteger>(_ value: T) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return (value < 0 ? "-" : "") + out
}

/// `72,712 B`: an exact size in bytes, where rounding to KiB would hide the size class.
func exactBytes<T: BinaryInteger>(_ value: T) -> String {
    "\(grouped(value)) B"
}

/// `+1,204` or `-3`: a change in a count.
func signedGrouped<T: BinaryInteger>(_ value: T) -> String {
    (value > 0 ? "+" : "") + grouped(value)
}
