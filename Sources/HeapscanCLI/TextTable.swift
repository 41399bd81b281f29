/// A plain aligned table for terminal output. Columns whose header starts with ">" are
/// right-aligned (numbers), the rest left-aligned.
struct TextTable {
    private let headers: [String]
    private let rightAligned: [Bool]
    private var rows: [[String]] = []

    init(_ headers: [String]) {
        self.headers = headers.map { $0.hasPrefix(">") ? String($0.dropFirst()) : $0 }
        self.rightAligned = headers.map { $0.hasPrefix(">") }
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render(indent: String = "  ") -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (column, cell) in cells.enumerated() where column < widths.count {
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                let isLast = column == cells.count - 1
                parts.append(rightAligned[column] ? pad + cell : (isLast ? cell : cell + pad))
            }
            return indent + parts.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}
