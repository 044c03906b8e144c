/// One path component pattern with Go's `filepath.Match` rules, which docker uses for COPY sources:
/// `*` and `?` never match `/`, `[a-z]` and `[^a-z]` classes, `\` escapes.
struct GlobPattern: Sendable {
    struct SyntaxError: Error {}

    private let pattern: [Unicode.Scalar]

    init(_ text: String) {
        pattern = Array(text.unicodeScalars)
    }

    /// Whether `text` has any of the characters that make a COPY source a pattern.
    static func hasMetacharacters(_ text: String) -> Bool {
        text.contains { "*?[\\".contains($0) }
    }

    func matches(_ name: String) throws -> Bool {
        try Self.match(pattern[...], Array(name.unicodeScalars)[...])
    }

    private static func match(_ pattern: ArraySlice<Unicode.Scalar>, _ name: ArraySlice<Unicode.Scalar>) throws -> Bool {
        var pattern = pattern
        var name = name
        while let next = pattern.first {
            switch next {
            case "*":
                let rest = pattern.drop { $0 == "*" }
                if rest.isEmpty { return !name.contains("/") }
                var candidate = name
                while true {
                    if try match(rest, candidate) { return true }
                    guard let first = candidate.first, first != "/" else { return false }
                    candidate = candidate.dropFirst()
                }
            case "?":
                guard let first = name.first, first != "/" else { return false }
                pattern = pattern.dropFirst()
                name = name.dropFirst()
            case "[":
                guard let first = name.first else {
                    _ = try classEnd(pattern)
                    return false
                }
                let (matched, rest) = try matchClass(pattern.dropFirst(), first)
                guard matched else { return false }
                pattern = rest
                name = name.dropFirst()
            case "\\":
                pattern = pattern.dropFirst()
                guard let literal = pattern.first else { throw SyntaxError() }
                guard name.first == literal else { return false }
                pattern = pattern.dropFirst()
                name = name.dropFirst()
            default:
                guard name.first == next else { return false }
                pattern = pattern.dropFirst()
                name = name.dropFirst()
            }
        }
        return name.isEmpty
    }

    /// Matches `scalar` against the class that starts after `[`; returns the pattern after `]`.
    private static func matchClass(_ body: ArraySlice<Unicode.Scalar>, _ scalar: Unicode.Scalar) throws -> (Bool, ArraySlice<Unicode.Scalar>) {
        var rest = body
        var negated = false
        if rest.first == "^" {
            negated = true
            rest = rest.dropFirst()
        }
        var matched = false
        var first = true
        while true {
            guard let next = rest.first else { throw SyntaxError() }
            if next == "]" && !first {
                rest = rest.dropFirst()
                break
            }
            first = false
            var low = next
            rest = rest.dropFirst()
            if low == "\\" {
                guard let escaped = rest.first else { throw SyntaxError() }
                low = escaped
                rest = rest.dropFirst()
            }
            var high = low
            if rest.first == "-", let upper = rest.dropFirst().first, upper != "]" {
                rest = rest.dropFirst(2)
                high = upper
                if upper == "\\" {
                    guard let escaped = rest.first else { throw SyntaxError() }
                    high = escaped
                    rest = rest.dropFirst()
                }
            }
            if low.value <= scalar.value && scalar.value <= high.value { matched = true }
        }
        return (matched != negated, rest)
    }

    private static func classEnd(_ pattern: ArraySlice<Unicode.Scalar>) throws -> ArraySlice<Unicode.Scalar> {
        guard let end = pattern.dropFirst(2).firstIndex(of: "]") else { throw SyntaxError() }
        return pattern[(end + 1)...]
    }
}
