/// How proto names become Swift names in the generated code.
enum SwiftName {
    /// The lowerCamelCase Swift name of a proto method: `CreateTimer` →
    /// `createTimer`, `ServerReflectionInfo` → `serverReflectionInfo`,
    /// `HTTPGet` → `httpGet`, `get_timer` → `getTimer`. A leading run of
    /// capitals is lowered as one word. Not escaped: see ``escaped(_:)``.
    static func lowerCamelCase(_ protoName: String) -> String {
        let words = protoName.split(separator: "_")
        guard let first = words.first else { return "" }
        var result = lowerLeadingCapitals(first)
        for word in words.dropFirst() {
            result += word.prefix(1).uppercased() + word.dropFirst()
        }
        return result
    }

    /// `word` with its leading capitals lowered: all of them when the word is
    /// all capitals or they are followed by a digit, all but the last when a
    /// lowercase letter follows (`URLFetch` → `urlFetch`).
    private static func lowerLeadingCapitals(_ word: Substring) -> String {
        let characters = Array(word)
        var capitals = 0
        while capitals < characters.count, characters[capitals].isUppercase { capitals += 1 }
        var lowered = capitals
        if capitals > 1, capitals < characters.count, characters[capitals].isLowercase { lowered -= 1 }
        return characters[..<lowered].map { $0.lowercased() }.joined() + String(characters[lowered...])
    }

    /// Words Swift reserves in at least one position where a generated name
    /// appears (declaration, member access, argument): such names are written
    /// in backticks. Contextual keywords are included; backticks never hurt.
    static let keywords: Set<String> = [
        "Any", "Self", "_", "actor", "any", "as", "associatedtype", "async", "await", "borrowing", "break",
        "case", "catch", "class", "consume", "consuming", "continue", "copy", "default", "defer", "deinit",
        "discard", "do", "each", "else", "enum", "extension", "fallthrough", "false", "fileprivate", "for",
        "func", "guard", "if", "import", "in", "indirect", "init", "inout", "internal", "is", "let", "macro",
        "nil", "nonisolated", "open", "operator", "package", "precedencegroup", "private", "protocol",
        "public", "repeat", "rethrows", "return", "self", "some", "static", "struct", "subscript", "super",
        "switch", "throw", "throws", "true", "try", "typealias", "var", "where", "while",
    ]

    /// `identifier`, in backticks when it is a Swift keyword.
    static func escaped(_ identifier: String) -> String {
        keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    /// Type names the stubs cannot reference: after a dot, `X.Type` and
    /// `X.Protocol` mean the metatype whatever the backticks, and `Self` and
    /// `Any` name something else. Messages so named must be renamed.
    static let unsupportedTypeNames: Set<String> = ["Any", "Protocol", "Self", "Type"]

    /// Whether `text` is an ASCII Swift identifier (letters, digits, `_`, not
    /// starting with a digit).
    static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Whether `text` is one or more identifiers joined by dots (`GRPCHealthV1`,
    /// `Outer.Inner`).
    static func isQualifiedIdentifier(_ text: Substring) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isIdentifier)
    }
}
