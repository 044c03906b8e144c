/// A parser directive at the top of a Dockerfile (`# syntax=…`, `# escape=…`, `# check=…`).
public struct Directive: Sendable, Equatable {
    /// The directive name, lower-cased.
    public var name: String
    /// The value, with surrounding whitespace removed.
    public var value: String
    /// The 1-based line of the directive.
    public var line: Int

    public init(name: String, value: String, line: Int) {
        self.name = name
        self.value = value
        self.line = line
    }

    /// The names BuildKit knows; any other `# name=value` comment ends the directive block.
    public static let knownNames: Set<String> = ["syntax", "escape", "check"]
}

/// Reads parser directives line by line, with the quirks of BuildKit's `DirectiveParser`: scanning stops at
/// the first line that is not a known directive, and a directive may not be repeated.
struct DirectiveScanner {
    private(set) var line: Int
    let commentPrefix: String
    private var seen: Set<String> = []
    private(set) var isDone = false

    init(commentPrefix: String = "#", startLine: Int = 0) {
        self.commentPrefix = commentPrefix
        self.line = startLine
    }

    /// Feeds the next line (without its newline); returns the directive it holds, if any.
    mutating func scan(_ text: Substring) throws(DockerfileError) -> Directive? {
        line += 1
        if isDone { return nil }
        guard text.hasPrefix(commentPrefix) else {
            isDone = true
            return nil
        }
        let body = text.dropFirst(commentPrefix.count).unicodeScalars.drop(while: isGoSpace)
        guard let (name, value) = Self.match(Substring(body)) else {
            isDone = true
            return nil
        }
        let key = name.lowercased()
        guard Directive.knownNames.contains(key) else {
            isDone = true
            return nil
        }
        guard seen.insert(key).inserted else {
            throw DockerfileError("only one \(key) parser directive can be used", line: line)
        }
        return Directive(name: key, value: value, line: line)
    }

    /// Matches `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` (RE2's `\s` is `[\t\n\f\r ]`).
    private static func match(_ text: Substring) -> (String, String)? {
        let scalars = Array(text.unicodeScalars)
        func isRE2Space(_ s: Unicode.Scalar) -> Bool { s == " " || s == "\t" || s == "\n" || s == "\u{0C}" || s == "\r" }
        func isASCIILetter(_ s: Unicode.Scalar) -> Bool { (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") }
        guard let first = scalars.first, isASCIILetter(first) else { return nil }
        var index = 1
        while index < scalars.count, isASCIILetter(scalars[index]) || (scalars[index] >= "0" && scalars[index] <= "9") {
            index += 1
        }
        let name = String(String.UnicodeScalarView(scalars[0..<index]))
        while index < scalars.count, isRE2Space(scalars[index]) { index += 1 }
        guard index < scalars.count, scalars[index] == "=" else { return nil }
        index += 1
        while index < scalars.count, isRE2Space(scalars[index]) { index += 1 }
        var end = scalars.count
        while end > index, isRE2Space(scalars[end - 1]) { end -= 1 }
        // `.` does not match a newline.
        guard end > index, !scalars[index..<end].contains("\n") else { return nil }
        return (name, String(String.UnicodeScalarView(scalars[index..<end])))
    }
}

/// Finds directives the way BuildKit's `DetectSyntax`/`ParseDirective` do, for tools that only need one value.
public enum DirectiveDetector {
    /// A found directive: `reference` is the value up to the first space, `commandLine` the whole value.
    public struct Match: Sendable, Equatable {
        public var reference: String
        public var commandLine: String
        public var line: Int
    }

    /// Finds the `syntax` directive, also accepting a `#!` shebang, a BOM, `//syntax=` and a JSON object.
    public static func syntax(in source: String) -> Match? {
        find("syntax", in: source, anyFormat: true)
    }

    /// Finds the directive `key` in `#` comment style only.
    public static func directive(_ key: String, in source: String) -> Match? {
        find(key, in: source, anyFormat: false)
    }

    private static func find(_ key: String, in source: String, anyFormat: Bool) -> Match? {
        var text = Substring(source)
        if text.hasPrefix("\u{FEFF}") { text = text.dropFirst() }
        var startLine = 0
        let firstLineEnd = text.firstIndex(of: "\n")
        if text.hasPrefix("#!") {
            text = firstLineEnd.map { text[text.index(after: $0)...] } ?? ""
            startLine = 1
        }
        if let match = scan(key, in: text, prefix: "#", startLine: startLine) { return match }
        guard anyFormat else { return nil }
        if let match = scan(key, in: text, prefix: "//", startLine: startLine) { return match }
        if let object = try? JSONValue.parse(String(text)), case .object(let members) = object,
            let value = members.last(where: { $0.key == key })?.value, case .string(let string) = value
        {
            return Match(reference: string, commandLine: string, line: startLine)
        }
        return nil
    }

    private static func scan(_ key: String, in text: Substring, prefix: String, startLine: Int) -> Match? {
        var scanner = DirectiveScanner(commentPrefix: prefix, startLine: startLine)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if scanner.isDone { break }
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            guard let directive = try? scanner.scan(trimmed) else { break }
            if directive.name == key {
                let reference = directive.value.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
                return Match(reference: reference, commandLine: directive.value, line: directive.line)
            }
        }
        return nil
    }
}
