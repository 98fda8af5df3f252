/// Builds source text line by line with 4-space indentation.
struct CodeWriter {
    /// The column limit past which ``declaration(_:_:_:body:)`` and
    /// ``list(_:_:)`` put one item per line.
    static let width = 120

    /// The text written so far; every line ends in a newline.
    private(set) var text = ""
    private var indentation = ""

    /// An empty writer.
    init() {}

    /// Writes one line at the current indentation; an empty line gets no
    /// trailing spaces.
    mutating func line(_ content: String = "") {
        text += content.isEmpty ? "\n" : indentation + content + "\n"
    }

    /// Writes `///` lines for `documentation` (paragraphs separated by empty
    /// lines stay separated by an empty `///` line).
    mutating func doc(_ documentation: String) {
        for line in documentation.split(separator: "\n", omittingEmptySubsequences: false) {
            self.line(line.isEmpty ? "///" : "/// \(line)")
        }
    }

    /// Writes `opening {`, the body one level deeper, then `}`.
    mutating func block(_ opening: String, _ body: (inout CodeWriter) -> Void) {
        line("\(opening) {")
        indented(body)
        line("}")
    }

    /// Writes a trailing closure: `call { parameters in` (the parameters on a
    /// line of their own when that passes ``width`` columns), the body one
    /// level deeper, then `}`.
    mutating func closure(_ call: String, parameters: String, _ body: (inout CodeWriter) -> Void) {
        let oneLine = "\(call) { \(parameters) in"
        if indentation.count + oneLine.count <= Self.width {
            line(oneLine)
            indented(body)
        } else {
            line("\(call) {")
            indented { writer in
                writer.line("\(parameters) in")
                body(&writer)
            }
        }
        line("}")
    }

    /// Writes `head(parameters)tail` on one line when it fits in ``width``
    /// columns, otherwise one parameter per line; with a body, ` {`, the body
    /// and `}` follow.
    mutating func declaration(
        _ head: String, _ parameters: [String], _ tail: String, body: ((inout CodeWriter) -> Void)? = nil
    ) {
        let opening = body == nil ? "" : " {"
        let oneLine = "\(head)(\(parameters.joined(separator: ", ")))\(tail)\(opening)"
        if parameters.isEmpty || indentation.count + oneLine.count <= Self.width {
            line(oneLine)
        } else {
            line("\(head)(")
            indented { writer in
                for (index, parameter) in parameters.enumerated() {
                    writer.line(parameter + (index < parameters.count - 1 ? "," : ""))
                }
            }
            line(")\(tail)\(opening)")
        }
        if let body {
            indented(body)
            line("}")
        }
    }

    /// Writes `head[a, b]` on one line when it fits in ``width`` columns,
    /// otherwise one element per line.
    mutating func list(_ head: String, _ elements: [String]) {
        let oneLine = "\(head)[\(elements.joined(separator: ", "))]"
        if indentation.count + oneLine.count <= Self.width {
            line(oneLine)
        } else {
            line("\(head)[")
            indented { writer in
                for element in elements { writer.line("\(element),") }
            }
            line("]")
        }
    }

    private mutating func indented(_ body: (inout CodeWriter) -> Void) {
        let outer = indentation
        indentation += "    "
        body(&self)
        indentation = outer
    }
}
