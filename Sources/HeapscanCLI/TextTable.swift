/// An aligned table for terminal output, fitted to a width: names are elided in the middle,
/// lists keep their first items, and when even that is too wide the columns with the lowest
/// drop rank are left out (one line under the table says which). Without a width every cell
/// is printed whole.
struct TextTable {
    struct Column {
        enum Fit {
            /// Never shortened: numbers, addresses, short words.
            case whole
            /// A name (C++ type, path, symbol) elided in the middle down to `minimum` characters.
            case elided(minimum: Int)
            /// Space-separated items, of which at least the first is kept.
            case items
        }

        let header: String
        let rightAligned: Bool
        let fit: Fit
        /// Columns that may be left out to fit, the lowest rank first; nil: always shown.
        let dropRank: Int?

        static func left(_ header: String, dropRank: Int? = nil) -> Column {
            Column(header: header, rightAligned: false, fit: .whole, dropRank: dropRank)
        }

        static func right(_ header: String, dropRank: Int? = nil) -> Column {
            Column(header: header, rightAligned: true, fit: .whole, dropRank: dropRank)
        }

        static func name(_ header: String, minimum: Int = 20, dropRank: Int? = nil) -> Column {
            Column(header: header, rightAligned: false, fit: .elided(minimum: minimum), dropRank: dropRank)
        }

        static func list(_ header: String, dropRank: Int? = nil) -> Column {
            Column(header: header, rightAligned: false, fit: .items, dropRank: dropRank)
        }
    }

    private let columns: [Column]
    private var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// The table, no line longer than `width` when the columns that are always shown allow it.
    func render(width: Int?, indent: String = "  ") -> String {
        let natural = columns.indices.map { column in
            rows.reduce(columns[column].header.count) { max($0, column < $1.count ? $1[column].count : 0) }
        }
        let (shown, widths) = layout(natural: natural, width: width.map { $0 - indent.count })
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (position, column) in shown.enumerated() {
                let cell = fitted(column < cells.count ? cells[column] : "", column: columns[column], width: widths[position])
                let pad = String(repeating: " ", count: max(0, widths[position] - cell.count))
                let isLast = position == shown.count - 1
                parts.append(columns[column].rightAligned ? pad + cell : (isLast ? cell : cell + pad))
            }
            return indent + parts.joined(separator: "  ")
        }
        var lines = [line(columns.map(\.header))] + rows.map(line)
        let dropped = columns.indices.filter { !shown.contains($0) }.map { columns[$0].header }
        if width != nil, !dropped.isEmpty {
            lines.append(indent + "(--wide shows \(dropped.joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n")
    }

    /// Which columns are shown and how wide each is: the droppable columns go, lowest rank
    /// first, until the rest fit at their narrowest; the room left widens the shortened
    /// columns toward their natural width, the narrowest need first.
    private func layout(natural: [Int], width: Int?) -> (shown: [Int], widths: [Int]) {
        guard let width else { return (Array(columns.indices), natural) }
        let minimum = columns.indices.map { narrowest(column: $0, natural: natural[$0]) }
        var shown = Array(columns.indices)
        func used(_ widths: [Int]) -> Int { widths.reduce(0, +) + 2 * max(0, widths.count - 1) }
        let dropOrder = columns.indices.filter { columns[$0].dropRank != nil }
            .sorted { (columns[$0].dropRank!, $1) < (columns[$1].dropRank!, $0) }
        for column in dropOrder where used(shown.map { minimum[$0] }) > width {
            shown.removeAll { $0 == column }
        }
        var widths = shown.map { minimum[$0] }
        var spare = width - used(widths)
        let growing = shown.indices.filter { natural[shown[$0]] > widths[$0] }
            .sorted { natural[shown[$0]] - widths[$0] < natural[shown[$1]] - widths[$1] }
        for (done, position) in growing.enumerated() where spare > 0 {
            let share = spare / (growing.count - done)
            let grant = min(natural[shown[position]] - widths[position], max(share, 0))
            widths[position] += grant
            spare -= grant
        }
        return (shown, widths)
    }

    private func narrowest(column: Int, natural: Int) -> Int {
        let header = columns[column].header.count
        switch columns[column].fit {
        case .whole:
            return natural
        case .elided(let minimum):
            return min(natural, max(minimum, header))
        case .items:
            // The first item whole, and " …" when more follow.
            let first = rows.reduce(header) { widest, row in
                guard column < row.count else { return widest }
                let items = row[column].split(separator: " ")
                return max(widest, (items.first?.count ?? 0) + (items.count > 1 ? 2 : 0))
            }
            return min(natural, first)
        }
    }

    private func fitted(_ cell: String, column: Column, width: Int) -> String {
        guard cell.count > width else { return cell }
        switch column.fit {
        case .whole: return cell
        case .elided: return elidedMiddle(cell, to: width)
        case .items: return firstItems(cell, to: width)
        }
    }
}

extension TextTable {
    /// A table of plain columns: a header starting with ">" is right-aligned (numbers), the
    /// rest left-aligned; nothing is shortened or left out.
    init(_ headers: [String]) {
        self.init(headers.map { $0.hasPrefix(">") ? .right(String($0.dropFirst())) : .left($0) })
    }
}
