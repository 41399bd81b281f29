/// Coordinates written with one decimal: enough for a screen, and a stable text for tests.
func svgNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let tenths = (value * 10).rounded() / 10
    return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
}
