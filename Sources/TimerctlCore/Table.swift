/// Rows of text in aligned columns, for a terminal: a header in capitals,
/// two spaces between columns, no trailing spaces. The last column gives way
/// when the table is wider than the terminal (cut, ending with `…`).
package struct Table: Sendable {
    /// How a column lines up its cells.
    package enum Alignment: Sendable {
        case left, right
    }

    /// One column: its title and alignment.
    package struct Column: Sendable {
        package var title: String
        package var alignment: Alignment

        package init(_ title: String, _ alignment: Alignment = .left) {
            self.title = title
            self.alignment = alignment
        }
    }

    package var columns: [Column]
    /// Cells, one array per row, as many as there are columns (missing cells
    /// are empty). Cells should be one line and sanitized.
    package var rows: [[String]] = []

    package init(_ columns: [Column]) {
        self.columns = columns
    }

    package mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The header and the rows, at most `width` columns wide (unbounded when nil).
    package func render(width: Int? = nil, header: Bool = true) -> [String] {
        let all = (header ? [columns.map(\.title)] : []) + rows
        var widths = columns.map { _ in 0 }
        for row in all {
            for (index, cell) in row.prefix(columns.count).enumerated() {
                widths[index] = max(widths[index], HumanText.width(cell))
            }
        }
        return all.map { row in
            var line = ""
            var used = 0
            for (index, column) in columns.enumerated() {
                var cell = index < row.count ? row[index] : ""
                let last = index == columns.count - 1
                if index > 0 { line += "  "; used += 2 }
                if last, let width {
                    cell = HumanText.truncated(cell, to: max(width - used, 1))
                }
                let padding = String(repeating: " ", count: max(widths[index] - HumanText.width(cell), 0))
                switch column.alignment {
                case .left: line += last ? cell : cell + padding
                case .right: line += padding + cell
                }
                used += widths[index]
            }
            while line.hasSuffix(" ") { line.removeLast() }
            if let width, HumanText.width(line) > width { line = HumanText.truncated(line, to: width) }
            return line
        }
    }
}
