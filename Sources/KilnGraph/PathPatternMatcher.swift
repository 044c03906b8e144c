import Foundation

/// Matches relative, slash-separated paths against `.dockerignore` patterns, with the semantics of
/// moby's `patternmatcher` (what docker and BuildKit use for `.dockerignore` and `COPY --exclude`).
///
/// Patterns are evaluated in order and the last one that applies wins:
/// - `*` matches any run of characters except `/`, and `?` any one character except `/`;
/// - `**` matches any number of directories, none included; at the end of a pattern it matches everything;
/// - `[...]` is a character class and `\` escapes the next character;
/// - a leading `!` marks an exclusion, which re-includes paths matched by earlier patterns.
///
/// A pattern is anchored at both ends, and a path is matched when it or one of its parent directories is.
public struct PathPatternMatcher: Sendable {
    /// One pattern of a matcher.
    public struct Pattern: Sendable {
        /// The pattern, cleaned like Go's `filepath.Clean`, without its leading `!`.
        public let text: String
        /// Whether the pattern was written with a leading `!`: it re-includes the paths it matches.
        public let isExclusion: Bool
        fileprivate let rule: CompiledPattern
    }

    /// The patterns, in order, without the empty ones.
    public let patterns: [Pattern]

    /// Whether any pattern is an exclusion (`!pattern`).
    public var hasExclusions: Bool { patterns.contains { $0.isExclusion } }

    /// Whether every exclusion is a plain path once a trailing `/**` or `/*` is removed, which lets
    /// `excludesWholeDirectory(_:)` decide without looking below the directory (BuildKit's
    /// `onlyPrefixExcludeExceptions`).
    private let exclusionsArePlainPaths: Bool

    /// Builds a matcher from `.dockerignore`-style patterns.
    ///
    /// Each pattern is trimmed (empty ones are dropped) and cleaned like Go's `filepath.Clean`; a leading `!`
    /// marks an exclusion. A lone `!` and a pattern that Go's `filepath.Match` rejects throw. As upstream, some
    /// malformed patterns (such as `[Local-Only]`, whose range `l-O` is reversed) are accepted here and make
    /// every match that reaches them throw.
    public init(_ patterns: [String]) throws(PathPatternError) {
        var compiled: [Pattern] = []
        for rawPattern in patterns {
            let trimmed = GoPath.trimmingSpace(rawPattern)
            if trimmed.isEmpty { continue }
            var text = GoPath.clean(trimmed)
            let isExclusion = text.utf8.first == UInt8(ascii: "!")
            if isExclusion {
                if text.utf8.count == 1 { throw PathPatternError(description: #"illegal exclusion pattern: "!""#) }
                text = String(text.unicodeScalars.dropFirst())
            }
            guard GoGlob.isWellFormed(text) else { throw .syntax(text) }
            compiled.append(Pattern(text: text, isExclusion: isExclusion, rule: CompiledPattern(text)))
        }
        self.patterns = compiled
        let wildcards = "*[]?^\\".unicodeScalars
        self.exclusionsArePlainPaths = !compiled.contains { pattern in
            guard pattern.isExclusion else { return false }
            return Self.withoutTrailingGlob(pattern.text).unicodeScalars.contains(where: wildcards.contains)
        }
    }

    /// Whether `path` (relative, slash-separated) or one of its parent directories is matched by the last
    /// pattern that applies to it (moby's `MatchesOrParentMatches`). Throws when a pattern that had to be
    /// evaluated is malformed.
    public func matches(_ path: String) throws(PathPatternError) -> Bool {
        // The parent directories, outermost first: `a`, `a/b`, ... for `a/b/c`.
        let parent = GoPath.directory(of: path)
        var parentPrefixes: [String] = []
        if parent != "." {
            let bytes = Array(parent.utf8)
            for index in bytes.indices where bytes[index] == UInt8(ascii: "/") {
                parentPrefixes.append(String(decoding: bytes[..<index], as: UTF8.self))
            }
            parentPrefixes.append(parent)
        }

        var matched = false
        // An inclusion only matters while the path is not matched yet, an exclusion only once it is.
        for pattern in patterns where pattern.isExclusion == matched {
            var match = try pattern.rule.matches(path, pattern: pattern.text)
            if !match {
                // Upstream ignores errors here: the path itself was already tried with the same pattern.
                match = parentPrefixes.contains { (try? pattern.rule.matches($0, pattern: pattern.text)) == true }
            }
            if match {
                matched = !pattern.isExclusion
            }
        }
        return matched
    }

    /// Whether a tree walk may skip `directory` (relative, slash-separated) entirely: it is matched, and no
    /// exclusion can re-include anything below it. This is BuildKit's walker optimisation: it answers `false`
    /// whenever an exclusion has wildcards (other than a trailing `/*` or `/**`), or names a path inside
    /// `directory`.
    public func excludesWholeDirectory(_ directory: String) throws(PathPatternError) -> Bool {
        guard try matches(directory), exclusionsArePlainPaths else { return false }
        let directoryWithSlash = Array((directory + "/").utf8)
        return !patterns.contains { pattern in
            guard pattern.isExclusion else { return false }
            return Array((Self.withoutTrailingGlob(pattern.text) + "/").utf8).starts(with: directoryWithSlash)
        }
    }

    /// The pattern less a trailing `/**`, then less a trailing `/*` (BuildKit's `patternWithoutTrailingGlob`).
    private static func withoutTrailingGlob(_ text: String) -> String {
        var bytes = Array(text.utf8)
        for suffix in [Array("/**".utf8), Array("/*".utf8)] where bytes.count >= suffix.count {
            if Array(bytes.suffix(suffix.count)) == suffix {
                bytes.removeLast(suffix.count)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A malformed pattern.
public struct PathPatternError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(description: String) {
        self.description = description
    }

    /// Go's `filepath.ErrBadPattern`, with the pattern.
    static func syntax(_ pattern: String) -> PathPatternError {
        PathPatternError(description: "syntax error in pattern: \(pattern)")
    }
}

// MARK: - Compiled patterns

/// One pattern turned into a test, as moby's `Pattern.compile` does, with its fast paths.
private enum CompiledPattern: Sendable {
    /// The path equals the pattern.
    case exact([UInt8])
    /// The path starts with these bytes (the pattern less its trailing `**`).
    case prefix([UInt8])
    /// The path ends with these bytes (the pattern less its leading `**`), or equals them less a leading `/`.
    case suffix([UInt8])
    case regex(NSRegularExpression)
    /// The generated regular expression does not compile: every match throws, as upstream.
    case invalid

    private enum Kind { case exact, prefix, suffix, regex }

    /// Port of `Pattern.compile`: builds the RE2 expression exactly as upstream, then runs it through ICU.
    init(_ pattern: String) {
        var expression = "^"
        var kind = Kind.exact
        var scalars = Array(pattern.unicodeScalars)
        if scalars.first == "\u{FEFF}" {
            scalars.removeFirst()  // Go's text/scanner skips a leading byte order mark.
        }
        var position = 0
        func peek() -> Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        var isFirst = true
        while let character = peek() {
            position += 1
            switch character {
            case "*" where peek() == "*":
                position += 1
                if peek() == "/" {
                    position += 1  // `**/` is `**`.
                }
                if peek() == nil {
                    // `**` at the end matches everything.
                    if kind == .exact {
                        kind = .prefix
                    } else {
                        expression += ".*"
                        kind = .regex
                    }
                } else {
                    expression += "(.*/)?"
                    kind = .regex
                }
                if isFirst {
                    kind = .suffix
                }
            case "*":
                expression += "[^/]*"
                kind = .regex
            case "?":
                expression += "[^/]"
                kind = .regex
            case ".", "+", "(", ")", "$":
                // Upstream means to escape `.+()|{}$` too, but its bitmap (`escapeBytes`) loses every
                // character above 63, so `|`, `{` and `}` reach the expression unescaped.
                expression += "\\" + String(character)
            case "\\":
                if let escaped = peek() {
                    position += 1
                    expression += "\\" + String(escaped)
                    kind = .regex
                } else {
                    expression += "\\"
                }
            case "[", "]":
                expression.unicodeScalars.append(character)
                kind = .regex
            default:
                expression.unicodeScalars.append(character)
            }
            isFirst = false
        }

        let bytes = Array(pattern.utf8)
        switch kind {
        case .exact:
            self = .exact(bytes)
        case .prefix:
            self = .prefix(Array(bytes.dropLast(2)))
        case .suffix:
            self = .suffix(Array(bytes.dropFirst(2)))
        case .regex:
            if let icuPattern = RE2Translator.icuPattern(for: expression + "$"),
               let regex = try? NSRegularExpression(pattern: icuPattern) {
                self = .regex(regex)
            } else {
                self = .invalid
            }
        }
    }

    /// Port of `Pattern.match`; strings are compared byte by byte, as Go does.
    func matches(_ path: String, pattern: String) throws(PathPatternError) -> Bool {
        switch self {
        case .exact(let bytes):
            return path.utf8.elementsEqual(bytes)
        case .prefix(let bytes):
            return path.utf8.starts(with: bytes)
        case .suffix(let bytes):
            let pathBytes = Array(path.utf8)
            if pathBytes.count >= bytes.count && pathBytes.suffix(bytes.count).elementsEqual(bytes) {
                return true
            }
            // `**/foo` matches `foo`.
            return bytes.first == UInt8(ascii: "/") && pathBytes.elementsEqual(bytes.dropFirst())
        case .regex(let regex):
            return regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
        case .invalid:
            throw .syntax(pattern)
        }
    }
}

// MARK: - RE2 to ICU

/// Translates the RE2 syntax that `CompiledPattern` generates into an ICU pattern for `NSRegularExpression`
/// with the same meaning, and rejects what Go's `regexp.Compile` rejects.
///
/// The generated expression is mostly fixed text, but a pattern's `[`, `]`, `^`, `|`, `{`, `}` and `\x` reach it
/// unchanged, and ICU reads some of those differently from RE2 (nested sets such as `[a[^/]]`, escapes like `\e`,
/// `.` and `$` around line terminators, Unicode `\b`). So every construct is parsed the RE2 way and written out
/// in ICU syntax that leaves no room for interpretation: literals and classes as code points, `.` as `[^\n]`,
/// `^` and `$` as `\A` and `\z`, `\b` as an ASCII word boundary.
private struct RE2Translator {
    private struct SyntaxError: Error {}

    /// One element of a concatenation: an atom or a `|`.
    private enum Piece {
        case atom(String)
        case alternation
    }

    private let source: [Unicode.Scalar]
    private var position = 0
    /// The pieces of the outermost expression and of each open group.
    private var frames: [[Piece]] = [[]]

    /// The ICU pattern equivalent to the RE2 pattern `re2`, or nil when Go would reject `re2`.
    static func icuPattern(for re2: String) -> String? {
        var translator = RE2Translator(source: Array(re2.unicodeScalars))
        return try? translator.translate()
    }

    private init(source: [Unicode.Scalar]) {
        self.source = source
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < source.count ? source[position + offset] : nil
    }

    private mutating func next() -> Unicode.Scalar? {
        guard let character = peek() else { return nil }
        position += 1
        return character
    }

    private mutating func push(_ atom: String) {
        frames[frames.count - 1].append(.atom(atom))
    }

    private static func joined(_ pieces: [Piece]) -> String {
        pieces.map { piece in
            switch piece {
            case .atom(let text): text
            case .alternation: "|"
            }
        }.joined()
    }

    private mutating func translate() throws(SyntaxError) -> String {
        var previousWasRepetition = false
        while let character = peek() {
            var isRepetition = false
            if character == "\\" {
                try parseEscapeOutsideClass()
                previousWasRepetition = false
                continue
            }
            position += 1
            switch character {
            case "(":
                // `(?` (flags, named groups) never comes out of `CompiledPattern`: a pattern's `(` is escaped.
                guard peek() != "?" else { throw SyntaxError() }
                frames.append([])
            case ")":
                guard frames.count > 1, let group = frames.popLast() else { throw SyntaxError() }
                push("(?:" + Self.joined(group) + ")")
            case "|":
                frames[frames.count - 1].append(.alternation)
            case "^":
                push(#"\A"#)
            case "$":
                push(#"\z"#)
            case ".":
                push(#"[^\n]"#)
            case "[":
                push(try parseClass())
            case "*", "+", "?":
                try repeatLastAtom(String(character), afterRepetition: previousWasRepetition)
                isRepetition = true
            case "{":
                if let count = try parseRepetitionCount() {
                    try repeatLastAtom(count, afterRepetition: previousWasRepetition)
                    isRepetition = true
                } else {
                    push(Self.literal(character.value))  // not `{n}`, `{n,}` or `{n,m}`: a literal
                }
            default:
                push(Self.literal(character.value))
            }
            previousWasRepetition = isRepetition
        }
        guard frames.count == 1 else { throw SyntaxError() }
        return Self.joined(frames[0])
    }

    /// Applies the repetition `operator` to the last atom. Perl rules: a repetition cannot follow a repetition,
    /// and a `?` right after one makes it non-greedy.
    private mutating func repeatLastAtom(_ operator: String, afterRepetition: Bool) throws(SyntaxError) {
        let last = frames[frames.count - 1].count - 1
        guard !afterRepetition, last >= 0, case .atom(let argument) = frames[frames.count - 1][last] else {
            throw SyntaxError()
        }
        var suffix = `operator`
        if peek() == "?" {
            position += 1
            suffix += "?"
        }
        frames[frames.count - 1][last] = .atom("(?:" + argument + ")" + suffix)
    }

    /// `{n}`, `{n,}` or `{n,m}` after a `{` (`position` is past it) as an ICU operator, or nil, with `position`
    /// unchanged, when the text has another form. Port of RE2's `parseRepeat`.
    private mutating func parseRepetitionCount() throws(SyntaxError) -> String? {
        let start = position
        func number() -> Int? {
            // At least one digit and no leading zero. Large values saturate: anything above 1000 is an error.
            guard let first = peek(), Self.isDigit(first) else { return nil }
            if first == "0", let second = peek(1), Self.isDigit(second) { return nil }
            var value = 0
            while let digit = peek(), Self.isDigit(digit) {
                position += 1
                value = min(value * 10 + Int(digit.value - 0x30), 10_000)
            }
            return value
        }
        guard let minimum = number() else { return nil }
        var maximum: Int? = minimum  // nil: unbounded
        if peek() == "," {
            position += 1
            maximum = peek() == "}" ? nil : number()
            if maximum == nil && peek() != "}" {
                position = start
                return nil
            }
        }
        guard peek() == "}" else {
            position = start
            return nil
        }
        position += 1
        guard minimum <= 1000, maximum.map({ (minimum...1000).contains($0) }) ?? true else { throw SyntaxError() }
        switch maximum {
        case nil: return "{\(minimum),}"
        case minimum: return "{\(minimum)}"
        case let maximum?: return "{\(minimum),\(maximum)}"
        }
    }

    /// An escape outside a class, with `position` on the backslash.
    private mutating func parseEscapeOutsideClass() throws(SyntaxError) {
        if let group = perlClass() {
            push(group)
            return
        }
        position += 1
        switch peek() {
        case "A":
            position += 1
            push(#"\A"#)
        case "z":
            position += 1
            push(#"\z"#)
        case "b":
            position += 1
            push("(?:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))")
        case "B":
            position += 1
            push("(?:(?<=[0-9A-Za-z_])(?=[0-9A-Za-z_])|(?<![0-9A-Za-z_])(?![0-9A-Za-z_]))")
        case "C":
            throw SyntaxError()
        case "Q":
            // `\Q...\E`: literal text up to `\E` or the end.
            position += 1
            while let character = peek(), !(character == "\\" && peek(1) == "E") {
                position += 1
                push(Self.literal(character.value))
            }
            position = min(position + 2, source.count)
        case "p", "P":
            push(try parseUnicodeClass())
        default:
            push(Self.literal(try parseEscape()))
        }
    }

    /// A single-character escape; `position` is just after the backslash. Port of RE2's `parseEscape`.
    private mutating func parseEscape() throws(SyntaxError) -> UInt32 {
        guard let character = next() else { throw SyntaxError() }
        let value = character.value
        if value < 0x80 && !Self.isAlphanumeric(character) {
            return value  // Escaped punctuation stands for itself.
        }
        switch character {
        case "0"..."7":
            // Up to three octal digits; a single non-zero digit would be a backreference.
            if character != "0" && !(peek().map(Self.isOctal) ?? false) { throw SyntaxError() }
            var result = value - 0x30
            for _ in 0..<2 {
                guard let digit = peek(), Self.isOctal(digit) else { break }
                position += 1
                result = result * 8 + digit.value - 0x30
            }
            return result
        case "x":
            guard let first = next() else { throw SyntaxError() }
            if first != "{" {
                guard let high = Self.hexValue(first), let low = next().flatMap(Self.hexValue) else {
                    throw SyntaxError()
                }
                return high * 16 + low
            }
            var result: UInt32 = 0
            var digits = 0
            while true {
                guard let digit = next() else { throw SyntaxError() }
                if digit == "}" { break }
                guard let digitValue = Self.hexValue(digit) else { throw SyntaxError() }
                result = result * 16 + digitValue
                guard result <= 0x10FFFF else { throw SyntaxError() }
                digits += 1
            }
            guard digits > 0 else { throw SyntaxError() }
            return result
        case "a": return 0x07
        case "f": return 0x0C
        case "n": return 0x0A
        case "r": return 0x0D
        case "t": return 0x09
        case "v": return 0x0B
        default: throw SyntaxError()
        }
    }

    /// A class after its `[`, as an ICU set. Port of RE2's `parseClass` (with Perl flags: `-` is literal
    /// where it cannot form a range, `[` is literal unless it starts `[:name:]`).
    private mutating func parseClass() throws(SyntaxError) -> String {
        var isNegated = false
        if peek() == "^" {
            isNegated = true
            position += 1
        }
        var items = ""
        var isFirst = true  // `]` is literal as the first character.
        while isFirst || peek() != "]" {
            isFirst = false
            if peek() == "[", peek(1) == ":", peek(2) != nil, let named = try posixClass() {
                items += named
                continue
            }
            if peek() == "\\", peek(1) == "p" || peek(1) == "P" {
                position += 1
                items += try parseUnicodeClass()
                continue
            }
            if peek() == "\\", let group = perlClass() {
                items += group
                continue
            }
            let low = try parseClassCharacter()
            var high = low
            if peek() == "-", let after = peek(1), after != "]" {
                position += 1
                high = try parseClassCharacter()
                guard low <= high else { throw SyntaxError() }
            }
            items += Self.codePoint(low) + (high == low ? "" : "-" + Self.codePoint(high))
        }
        position += 1
        return (isNegated ? "[^" : "[") + items + "]"
    }

    private mutating func parseClassCharacter() throws(SyntaxError) -> UInt32 {
        guard let character = next() else { throw SyntaxError() }  // missing `]`
        return character == "\\" ? try parseEscape() : character.value
    }

    /// `[:name:]` or `[:^name:]` at `position`, or nil when no `:]` follows.
    private mutating func posixClass() throws(SyntaxError) -> String? {
        var end = position + 2
        while end + 1 < source.count && !(source[end] == ":" && source[end + 1] == "]") {
            end += 1
        }
        guard end + 1 < source.count else { return nil }
        var name = String(String.UnicodeScalarView(source[(position + 2)..<end]))
        position = end + 2
        let isNegated = name.unicodeScalars.first == "^"
        if isNegated { name.unicodeScalars.removeFirst() }
        let ranges: String
        switch name {
        case "alnum": ranges = "0-9A-Za-z"
        case "alpha": ranges = "A-Za-z"
        case "ascii": ranges = #"\x{0}-\x{7F}"#
        case "blank": ranges = #"\x{9}\x{20}"#
        case "cntrl": ranges = #"\x{0}-\x{1F}\x{7F}"#
        case "digit": ranges = "0-9"
        case "graph": ranges = #"\x{21}-\x{7E}"#
        case "lower": ranges = "a-z"
        case "print": ranges = #"\x{20}-\x{7E}"#
        case "punct": ranges = #"\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}"#
        case "space": ranges = #"\x{9}-\x{D}\x{20}"#
        case "upper": ranges = "A-Z"
        case "word": ranges = "0-9A-Za-z_"
        case "xdigit": ranges = "0-9A-Fa-f"
        default: throw SyntaxError()
        }
        return (isNegated ? "[^" : "[") + ranges + "]"
    }

    /// `\d`, `\s`, `\w` or their negations at `position` (on the backslash), or nil.
    private mutating func perlClass() -> String? {
        let ranges: String
        switch peek(1) {
        case "d", "D": ranges = "0-9"
        case "s", "S": ranges = #"\x{9}\x{A}\x{C}\x{D}\x{20}"#
        case "w", "W": ranges = "0-9A-Za-z_"
        default: return nil
        }
        let isNegated = peek(1) == "D" || peek(1) == "S" || peek(1) == "W"
        position += 2
        return (isNegated ? "[^" : "[") + ranges + "]"
    }

    /// `\pX`, `\p{Name}`, `\PX` or `\P{Name}`, with `position` on the `p`. Names are those of Go's `unicode`
    /// package before Go 1.25: `Any`, the general categories and the scripts.
    private mutating func parseUnicodeClass() throws(SyntaxError) -> String {
        var isNegated = next() == "P"
        guard let first = next() else { throw SyntaxError() }
        var name = ""
        if first == "{" {
            while true {
                guard let character = next() else { throw SyntaxError() }
                if character == "}" { break }
                name.unicodeScalars.append(character)
            }
        } else {
            name.unicodeScalars.append(first)
        }
        if name.unicodeScalars.first == "^" {
            isNegated.toggle()
            name.unicodeScalars.removeFirst()
        }
        let set: String
        if name == "Any" {
            set = #"[\x{0}-\x{10FFFF}]"#
        } else if name == "C" {
            set = #"[\p{gc=Cc}\p{gc=Cf}\p{gc=Co}\p{gc=Cs}]"#  // Go's C has no unassigned code points.
        } else if Self.generalCategories.contains(name) {
            set = #"[\p{gc="# + name + "}]"
        } else if let initial = name.unicodeScalars.first, ("A"..."Z").contains(initial),
                  name.unicodeScalars.allSatisfy({ Self.isAlphanumeric($0) || $0 == "_" }) {
            set = #"[\p{sc="# + name + "}]"  // ICU rejects names that are no script.
        } else {
            throw SyntaxError()
        }
        return isNegated ? "[^" + set + "]" : set
    }

    private static let generalCategories: Set<String> = [
        "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn", "N", "Nd", "Nl", "No",
        "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps", "S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs",
    ]

    private static func literal(_ value: UInt32) -> String {
        if let scalar = Unicode.Scalar(value), isAlphanumeric(scalar) {
            return String(scalar)
        }
        return codePoint(value)
    }

    private static func codePoint(_ value: UInt32) -> String {
        #"\x{"# + String(value, radix: 16, uppercase: true) + "}"
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar) || ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar)
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }

    private static func isOctal(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."7").contains(scalar)
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 0x30
        case "a"..."f": scalar.value - 0x61 + 10
        case "A"..."F": scalar.value - 0x41 + 10
        default: nil
        }
    }
}

// MARK: - Go's path/filepath

/// The parts of Go's `path/filepath` and `strings` that the matcher relies on, for `/`-separated paths.
private enum GoPath {
    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")

    /// `strings.TrimSpace`: removes leading and trailing Unicode white space.
    static func trimmingSpace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }

    /// `filepath.Clean`: the shortest equivalent path, by purely lexical processing.
    static func clean(_ path: String) -> String {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty else { return "." }
        let isRooted = bytes[0] == slash
        var output: [UInt8] = []
        var index = 0
        var dotdotLimit = 0  // where `..` must stop backtracking
        if isRooted {
            output.append(slash)
            index = 1
            dotdotLimit = 1
        }
        while index < bytes.count {
            let isEnd = { (offset: Int) in index + offset == bytes.count || bytes[index + offset] == slash }
            if bytes[index] == slash {
                index += 1  // empty element
            } else if bytes[index] == dot && isEnd(1) {
                index += 1  // `.` element
            } else if bytes[index] == dot && bytes[index + 1] == dot && isEnd(2) {
                index += 2  // `..` element: remove the last element, or keep the `..`
                if output.count > dotdotLimit {
                    var end = output.count - 1
                    while end > dotdotLimit && output[end] != slash { end -= 1 }
                    output.removeSubrange(end...)
                } else if !isRooted {
                    if !output.isEmpty { output.append(slash) }
                    output += [dot, dot]
                    dotdotLimit = output.count
                }
            } else {
                if isRooted && output.count != 1 || !isRooted && !output.isEmpty { output.append(slash) }
                while index < bytes.count && bytes[index] != slash {
                    output.append(bytes[index])
                    index += 1
                }
            }
        }
        return output.isEmpty ? "." : String(decoding: output, as: UTF8.self)
    }

    /// `filepath.Dir`: everything but the last element, cleaned.
    static func directory(of path: String) -> String {
        let bytes = Array(path.utf8)
        let end = bytes.lastIndex(of: slash).map { $0 + 1 } ?? 0
        return clean(String(decoding: bytes[..<end], as: UTF8.self))
    }
}

/// Go's `filepath.Match` (Unix flavour, with the trailing syntax check of current Go), which upstream calls with
/// the name `.` only to reject malformed patterns.
private enum GoGlob {
    private struct BadPattern: Error {}

    private static let slash = UInt8(ascii: "/")
    private static let backslash = UInt8(ascii: "\\")

    static func isWellFormed(_ pattern: String) -> Bool {
        (try? match(Array(pattern.utf8)[...], name: Array(".".utf8)[...])) != nil
    }

    private static func match(_ pattern: ArraySlice<UInt8>, name: ArraySlice<UInt8>) throws(BadPattern) -> Bool {
        var pattern = pattern
        var name = name
        nextChunk: while !pattern.isEmpty {
            let (star, chunk, rest) = scanChunk(pattern)
            pattern = rest
            if star && chunk.isEmpty {
                return !name.contains(slash)  // A trailing `*` matches the rest unless it has a `/`.
            }
            if let remainder = try matchChunk(chunk, name), remainder.isEmpty || !pattern.isEmpty {
                name = remainder
                continue
            }
            if star {
                // Look for a match skipping i+1 bytes; a star cannot skip `/`.
                var index = name.startIndex
                while index < name.endIndex && name[index] != slash {
                    if let remainder = try matchChunk(chunk, name[(index + 1)...]),
                       remainder.isEmpty || !pattern.isEmpty {
                        name = remainder
                        continue nextChunk
                    }
                    index += 1
                }
            }
            // Before answering false, check that the rest of the pattern is well formed.
            while !pattern.isEmpty {
                let (_, chunk, rest) = scanChunk(pattern)
                pattern = rest
                _ = try matchChunk(chunk, [])
            }
            return false
        }
        return name.isEmpty
    }

    /// The next segment of `pattern`: an optional run of stars, then text up to the next star outside a class.
    private static func scanChunk(
        _ pattern: ArraySlice<UInt8>
    ) -> (star: Bool, chunk: ArraySlice<UInt8>, rest: ArraySlice<UInt8>) {
        let start = pattern.firstIndex { $0 != UInt8(ascii: "*") } ?? pattern.endIndex
        var inRange = false
        var index = start
        scan: while index < pattern.endIndex {
            switch pattern[index] {
            case backslash where index + 1 < pattern.endIndex:
                index += 1
            case UInt8(ascii: "["):
                inRange = true
            case UInt8(ascii: "]"):
                inRange = false
            case UInt8(ascii: "*") where !inRange:
                break scan
            default:
                break
            }
            index += 1
        }
        return (start > pattern.startIndex, pattern[start..<index], pattern[index...])
    }

    /// Matches `chunk` at the start of `name`: the rest of `name`, or nil when it does not match. The whole chunk
    /// is checked for errors even after a mismatch.
    private static func matchChunk(
        _ chunk: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>
    ) throws(BadPattern) -> ArraySlice<UInt8>? {
        var chunk = chunk
        var name = name
        var failed = false
        while let head = chunk.first {
            if !failed && name.isEmpty { failed = true }
            switch head {
            case UInt8(ascii: "["):
                var rune: UInt32 = 0
                if !failed {
                    let (value, length) = decodeRune(name)
                    rune = value
                    name = name.dropFirst(length)
                }
                chunk = chunk.dropFirst()
                var isNegated = false
                if chunk.first == UInt8(ascii: "^") {
                    isNegated = true
                    chunk = chunk.dropFirst()
                }
                var isMatch = false
                var rangeCount = 0
                while true {
                    if chunk.first == UInt8(ascii: "]") && rangeCount > 0 {
                        chunk = chunk.dropFirst()
                        break
                    }
                    let low = try classCharacter(&chunk)
                    var high = low
                    if chunk.first == UInt8(ascii: "-") {
                        chunk = chunk.dropFirst()
                        high = try classCharacter(&chunk)
                    }
                    if low <= rune && rune <= high { isMatch = true }
                    rangeCount += 1
                }
                if isMatch == isNegated { failed = true }
            case UInt8(ascii: "?"):
                if !failed {
                    if name.first == slash { failed = true }
                    name = name.dropFirst(decodeRune(name).length)
                }
                chunk = chunk.dropFirst()
            default:
                if head == backslash {
                    chunk = chunk.dropFirst()
                    guard !chunk.isEmpty else { throw BadPattern() }
                }
                if !failed {
                    if chunk.first != name.first { failed = true }
                    name = name.dropFirst()
                }
                chunk = chunk.dropFirst()
            }
        }
        return failed ? nil : name
    }

    /// Go's `getEsc`: one possibly escaped character of a class, which must be followed by more of the class.
    private static func classCharacter(_ chunk: inout ArraySlice<UInt8>) throws(BadPattern) -> UInt32 {
        guard let first = chunk.first, first != UInt8(ascii: "-"), first != UInt8(ascii: "]") else {
            throw BadPattern()
        }
        if first == backslash {
            chunk = chunk.dropFirst()
            guard !chunk.isEmpty else { throw BadPattern() }
        }
        let (rune, length) = decodeRune(chunk)
        chunk = chunk.dropFirst(length)
        guard !(rune == 0xFFFD && length == 1), !chunk.isEmpty else { throw BadPattern() }
        return rune
    }

    /// Go's `utf8.DecodeRune`: the first code point and its length; U+FFFD with length 1 for invalid bytes,
    /// or with length 0 when `bytes` is empty.
    private static func decodeRune(_ bytes: ArraySlice<UInt8>) -> (value: UInt32, length: Int) {
        guard !bytes.isEmpty else { return (0xFFFD, 0) }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return (scalar.value, UTF8.width(scalar))
        }
        return (0xFFFD, 1)
    }
}
