/// The per-instruction argument parsers of BuildKit's `line_parsers.go`: each turns the text after the
/// keyword (and its flags) into argument nodes.
enum LineParser {
    /// The parsed arguments and whether they were in JSON form.
    typealias Output = (arguments: [Node], isJSON: Bool)

    static let notStringArrayMessage = "when using JSON array syntax, arrays must be comprised of strings only"

    /// The argument parser for `keyword` (lower case); unknown instructions keep one empty argument.
    static func parse(keyword: String, rest: String, escapeToken: Unicode.Scalar) throws(DockerfileError) -> Output {
        switch keyword {
        case "add", "copy", "volume": return try maybeJSONToList(rest)
        case "arg": return (nameOrNameValue(rest, escapeToken: escapeToken), false)
        case "cmd", "entrypoint", "run", "shell": return try maybeJSON(rest)
        case "env": return (try nameValue(rest, instruction: "ENV", escapeToken: escapeToken), false)
        case "label": return (try nameValue(rest, instruction: "LABEL", escapeToken: escapeToken), false)
        case "expose", "from": return (whitespaceDelimited(rest), false)
        case "healthcheck": return try healthConfig(rest)
        case "maintainer", "stopsignal", "user", "workdir": return (rest.isEmpty ? [] : [Node(value: rest)], false)
        case "onbuild": return ([], false)  // handled by the parser, which owns the recursion
        default: return ([Node()], false)
        }
    }

    /// Splits on quotes-aware whitespace, keeping quotes and escapes (BuildKit's `parseWords`).
    static func words(_ rest: String, escapeToken: Unicode.Scalar) -> [String] {
        enum Phase { case spaces, word, quote }
        var words: [String] = []
        var phase = Phase.spaces
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var word = String.UnicodeScalarView()
        let scalars = Array(rest.unicodeScalars)
        var index = 0
        while index <= scalars.count {
            let atEnd = index == scalars.count
            var scalar: Unicode.Scalar = atEnd ? "\0" : scalars[index]
            if phase == .spaces {
                if atEnd { break }
                if isGoSpace(scalar) { index += 1; continue }
                phase = .word
            }
            if atEnd {
                if blankOK || !word.isEmpty { words.append(String(word)) }
                break
            }
            if phase == .word {
                if isGoSpace(scalar) {
                    phase = .spaces
                    if blankOK || !word.isEmpty { words.append(String(word)) }
                    word = String.UnicodeScalarView()
                    blankOK = false
                    index += 1
                    continue
                }
                if scalar == "'" || scalar == "\"" {
                    quote = scalar
                    blankOK = true
                    phase = .quote
                }
                if scalar == escapeToken {
                    if index + 1 == scalars.count { index += 1; continue }
                    word.append(scalar)
                    index += 1
                    scalar = scalars[index]
                }
                word.append(scalar)
                index += 1
                continue
            }
            // Inside quotes.
            if scalar == quote { phase = .word }
            if scalar == escapeToken && quote != "'" {
                if index + 1 == scalars.count {
                    phase = .word
                    index += 1
                    continue
                }
                index += 1
                word.append(scalar)
                scalar = scalars[index]
            }
            word.append(scalar)
            index += 1
        }
        return words
    }

    /// `ENV`/`LABEL`: `key=value …` pairs give `key value "="`, the legacy `KEY name value` form `key value ""`.
    static func nameValue(_ rest: String, instruction: String, escapeToken: Unicode.Scalar) throws(DockerfileError) -> [Node] {
        let parts = words(rest, escapeToken: escapeToken)
        guard let first = parts.first else { return [] }
        if !first.contains("=") {
            let split = rest.splitOnDockerfileWhitespace(limit: 2)
            guard split.count == 2 else { throw DockerfileError("\(instruction) must have two arguments") }
            return [Node(value: split[0]), Node(value: split[1]), Node(value: "")]
        }
        var nodes: [Node] = []
        for word in parts {
            guard let equals = word.firstIndex(of: "=") else {
                throw DockerfileError(
                    "Syntax error - can't find = in \(goQuoted(word)). Must be of the form: name=value")
            }
            nodes.append(Node(value: String(word[..<equals])))
            nodes.append(Node(value: String(word[word.index(after: equals)...])))
            nodes.append(Node(value: "="))
        }
        return nodes
    }

    /// `ARG`: one node per word.
    static func nameOrNameValue(_ rest: String, escapeToken: Unicode.Scalar) -> [Node] {
        words(rest, escapeToken: escapeToken).map { Node(value: $0) }
    }

    static func whitespaceDelimited(_ rest: String) -> [Node] {
        guard !rest.isEmpty else { return [] }
        return rest.splitOnDockerfileWhitespace().map { Node(value: $0) }
    }

    enum JSONOutcome {
        case array([String])
        case notStringArray
        case notJSON
    }

    /// Reads `rest` as a JSON array of strings, as BuildKit's `parseJSON`.
    static func jsonArray(_ rest: String) -> JSONOutcome {
        let trimmed = rest.trimmingGoSpacePrefix()
        guard trimmed.hasPrefix("[") else { return .notJSON }
        guard case .array(let elements)? = try? JSONValue.parse(trimmed) else { return .notJSON }
        var strings: [String] = []
        for element in elements {
            guard case .string(let string) = element else { return .notStringArray }
            strings.append(string)
        }
        return .array(strings)
    }

    static func maybeJSON(_ rest: String) throws(DockerfileError) -> Output {
        guard !rest.isEmpty else { return ([], false) }
        switch jsonArray(rest) {
        case .array(let strings): return (strings.map { Node(value: $0) }, true)
        case .notStringArray: throw DockerfileError(notStringArrayMessage)
        case .notJSON: return ([Node(value: rest)], false)
        }
    }

    static func maybeJSONToList(_ rest: String) throws(DockerfileError) -> Output {
        switch jsonArray(rest) {
        case .array(let strings): return (strings.map { Node(value: $0) }, true)
        case .notStringArray: throw DockerfileError(notStringArrayMessage)
        case .notJSON: return (whitespaceDelimited(rest), false)
        }
    }

    /// `HEALTHCHECK`: the type word (`CMD`, `NONE`, …) then the command as for `CMD`.
    static func healthConfig(_ rest: String) throws(DockerfileError) -> Output {
        // BuildKit tests single bytes with unicode.IsSpace here.
        let bytes = Array(rest.utf8)
        func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0x85 || b == 0xA0 }
        var separator = 0
        while separator < bytes.count, !isSpaceByte(bytes[separator]) { separator += 1 }
        var next = separator
        while next < bytes.count, isSpaceByte(bytes[next]) { next += 1 }
        guard separator > 0 else { return ([], false) }
        let type = String(decoding: bytes[..<separator], as: UTF8.self)
        let command = try maybeJSON(String(decoding: bytes[next...], as: UTF8.self))
        return ([Node(value: type)] + command.arguments, command.isJSON)
    }

    /// Splits an instruction line into keyword, flags and the rest (BuildKit's `splitCommand`).
    static func splitCommand(_ line: String, escapeToken: Unicode.Scalar) -> (keyword: String, flags: [String], rest: String) {
        let parts = line.trimmingGoSpace().splitOnDockerfileWhitespace(limit: 2)
        guard parts.count == 2 else { return (parts[0], [], "") }
        let (rest, flags) = extractFlags(parts[1], escapeToken: escapeToken)
        return (parts[0], flags, rest.trimmingGoSpace())
    }

    /// Takes the leading `--flag` words off `line` (BuildKit's `extractBuilderFlags`); `--` alone ends them.
    static func extractFlags(_ line: String, escapeToken: Unicode.Scalar) -> (rest: String, flags: [String]) {
        enum Phase { case spaces, word, quote }
        let scalars = Array(line.unicodeScalars)
        var flags: [String] = []
        var phase = Phase.spaces
        var word = String.UnicodeScalarView()
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var index = 0
        func rest(from position: Int) -> String { String(String.UnicodeScalarView(scalars[position...])) }
        while index <= scalars.count {
            let atEnd = index == scalars.count
            var scalar: Unicode.Scalar = atEnd ? "\0" : scalars[index]
            if phase == .spaces {
                if atEnd { break }
                if isGoSpace(scalar) { index += 1; continue }
                if scalar != "-" || index + 1 == scalars.count || scalars[index + 1] != "-" {
                    return (rest(from: index), flags)
                }
                phase = .word
            }
            if atEnd {
                let text = String(word)
                if text != "--" && (blankOK || !text.isEmpty) { flags.append(text) }
                break
            }
            if phase == .word {
                if isGoSpace(scalar) {
                    let text = String(word)
                    phase = .spaces
                    if text == "--" { return (rest(from: index), flags) }
                    if blankOK || !text.isEmpty { flags.append(text) }
                    word = String.UnicodeScalarView()
                    blankOK = false
                    index += 1
                    continue
                }
                if scalar == "'" || scalar == "\"" {
                    quote = scalar
                    blankOK = true
                    phase = .quote
                    index += 1
                    continue
                }
                if scalar == escapeToken {
                    if index + 1 == scalars.count { index += 1; continue }
                    index += 1
                    scalar = scalars[index]
                }
                word.append(scalar)
                index += 1
                continue
            }
            if scalar == quote {
                phase = .word
                index += 1
                continue
            }
            if scalar == escapeToken {
                if index + 1 == scalars.count {
                    phase = .word
                    index += 1
                    continue
                }
                index += 1
                scalar = scalars[index]
            }
            word.append(scalar)
            index += 1
        }
        return ("", flags)
    }
}
