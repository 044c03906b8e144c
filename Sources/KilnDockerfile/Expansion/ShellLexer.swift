/// Expands variables and removes quotes in Dockerfile words, exactly as BuildKit's shell lexer
/// (`frontend/dockerfile/shell/lex.go`): `$a ${a} ${a:-b} ${a-b} ${a:+b} ${a+b} ${a:?msg} ${a?msg}
/// ${a#pat} ${a##pat} ${a%pat} ${a%%pat} ${a/pat/rep} ${a//pat/rep}`, single and double quotes, escapes.
public struct ShellLexer: Sendable {
    /// The escape character: `\` by default, or a backtick set by the `escape` directive.
    public var escapeToken: Unicode.Scalar
    /// Keep quote characters in the result.
    public var rawQuotes = false
    /// Keep escape characters in the result.
    public var rawEscapes = false
    /// Treat quotes as ordinary characters.
    public var skipProcessQuotes = false
    /// Leave references to unset variables as written (`$name`, `${name}`).
    public var skipUnsetEnv = false

    public init(escapeToken: Unicode.Scalar = "\\") {
        self.escapeToken = escapeToken
    }

    /// The outcome of expanding a word, with the variable names that were found and not found.
    public struct Expansion: Sendable, Equatable {
        /// The word as one string (quotes removed, no splitting).
        public var result: String
        /// The word split on unquoted whitespace.
        public var words: [String]
        /// Variables that were referenced and set.
        public var matched: Set<String>
        /// Variables that were referenced and not set.
        public var unmatched: Set<String>
    }

    /// Expands `word` as one word (BuildKit's `ProcessWord`).
    public func processWord(_ word: String, with variables: some VariableLookup) throws(ShellExpansionError) -> String {
        try expand(word, with: variables).result
    }

    /// Expands `word` and splits the result on unquoted whitespace (BuildKit's `ProcessWords`).
    public func processWords(_ word: String, with variables: some VariableLookup) throws(ShellExpansionError) -> [String] {
        try expand(word, with: variables).words
    }

    /// Expands `word`, reporting the result, the split words and which variables were used.
    public func expand(_ word: String, with variables: some VariableLookup) throws(ShellExpansionError) -> Expansion {
        var processor = WordProcessor(lexer: self, source: Array(word.unicodeScalars), variables: variables)
        do {
            let (result, words) = try processor.process(stopAt: nil, rawEscapes: rawEscapes)
            return Expansion(result: result, words: words, matched: processor.matched, unmatched: processor.unmatched)
        } catch {
            throw ShellExpansionError(reason: error.reason, word: word)
        }
    }
}

struct ExpansionFailure: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Accumulates words while characters are added, splitting on unquoted whitespace.
private struct WordAccumulator {
    var buffer = String.UnicodeScalarView()
    var words: [String] = []
    var inWord = false

    mutating func add(_ scalar: Unicode.Scalar) {
        if isGoSpace(scalar) {
            if inWord && !buffer.isEmpty {
                words.append(String(buffer))
                buffer = String.UnicodeScalarView()
                inWord = false
            }
        } else {
            addRaw(scalar)
        }
    }

    mutating func addRaw(_ scalar: Unicode.Scalar) {
        buffer.append(scalar)
        inWord = true
    }

    mutating func add(_ text: String) {
        for scalar in text.unicodeScalars { add(scalar) }
    }

    mutating func addRaw(_ text: String) {
        buffer.append(contentsOf: text.unicodeScalars)
        inWord = true
    }

    mutating func finish() -> [String] {
        if !buffer.isEmpty {
            words.append(String(buffer))
            buffer = String.UnicodeScalarView()
            inWord = false
        }
        return words
    }
}

private struct WordProcessor<Variables: VariableLookup> {
    let lexer: ShellLexer
    let source: [Unicode.Scalar]
    let variables: Variables
    var position = 0
    var rawEscapes: Bool
    var matched: Set<String> = []
    var unmatched: Set<String> = []

    init(lexer: ShellLexer, source: [Unicode.Scalar], variables: Variables) {
        self.lexer = lexer
        self.source = source
        self.variables = variables
        self.rawEscapes = lexer.rawEscapes
    }

    private func peek() -> Unicode.Scalar? { position < source.count ? source[position] : nil }

    @discardableResult
    private mutating func next() -> Unicode.Scalar? {
        guard position < source.count else { return nil }
        defer { position += 1 }
        return source[position]
    }

    mutating func process(stopAt stop: Unicode.Scalar?, rawEscapes wantRaw: Bool) throws(ExpansionFailure) -> (String, [String]) {
        var result = String.UnicodeScalarView()
        var words = WordAccumulator()
        let saved = rawEscapes
        rawEscapes = wantRaw
        defer { rawEscapes = saved }

        while let scalar = peek() {
            if let stop, scalar == stop {
                next()
                return (String(result), words.finish())
            }
            switch scalar {
            case "$":
                let value = try processDollar()
                result.append(contentsOf: value.unicodeScalars)
                words.add(value)
                continue
            case "<":
                let value = processPossibleHeredoc()
                result.append(contentsOf: value.unicodeScalars)
                words.addRaw(value)
                continue
            case "'" where !lexer.skipProcessQuotes:
                let value = try processSingleQuote()
                result.append(contentsOf: value.unicodeScalars)
                words.addRaw(value)
                continue
            case "\"" where !lexer.skipProcessQuotes:
                let value = try processDoubleQuote()
                result.append(contentsOf: value.unicodeScalars)
                words.addRaw(value)
                continue
            default:
                break
            }
            var character = next()!
            if character == lexer.escapeToken {
                if rawEscapes {
                    words.addRaw(character)
                    result.append(character)
                }
                guard let escaped = next() else { break }
                character = escaped
                words.addRaw(character)
            } else {
                words.add(character)
            }
            result.append(character)
        }
        if let stop {
            throw ExpansionFailure("unexpected end of statement while looking for matching \(stop)")
        }
        return (String(result), words.finish())
    }

    private mutating func processSingleQuote() throws(ExpansionFailure) -> String {
        var result = String.UnicodeScalarView()
        let open = next()!
        if lexer.rawQuotes { result.append(open) }
        while true {
            guard let scalar = next() else {
                throw ExpansionFailure("unexpected end of statement while looking for matching single-quote")
            }
            if scalar == "'" {
                if lexer.rawQuotes { result.append(scalar) }
                return String(result)
            }
            result.append(scalar)
        }
    }

    private mutating func processDoubleQuote() throws(ExpansionFailure) -> String {
        var result = String.UnicodeScalarView()
        let open = next()!
        if lexer.rawQuotes { result.append(open) }
        while true {
            guard let scalar = peek() else {
                throw ExpansionFailure("unexpected end of statement while looking for matching double-quote")
            }
            if scalar == "\"" {
                next()
                if lexer.rawQuotes { result.append(scalar) }
                return String(result)
            }
            if scalar == "$" {
                result.append(contentsOf: try processDollar().unicodeScalars)
                continue
            }
            var character = next()!
            if character == lexer.escapeToken {
                if rawEscapes { result.append(character) }
                guard let following = peek() else { continue }
                if following == "\"" || following == "$" || following == lexer.escapeToken {
                    character = next()!
                }
            }
            result.append(character)
        }
    }

    private mutating func processDollar() throws(ExpansionFailure) -> String {
        next()
        if peek() != "{" {
            let name = processName()
            if name.isEmpty { return "$" }
            let value = lookup(name)
            if value == nil && lexer.skipUnsetEnv { return "$" + name }
            return value ?? ""
        }
        next()
        switch peek() {
        case nil: throw ExpansionFailure("syntax error: missing '}'")
        case "{", "}", ":": throw ExpansionFailure("syntax error: bad substitution")
        default: break
        }
        let name = processName()
        let modifier = next()
        var modifierText = modifier.map { String($0) } ?? ""
        switch modifier {
        case "}":
            let value = lookup(name)
            if value == nil && lexer.skipUnsetEnv { return "${\(name)}" }
            return value ?? ""
        case ":", "+", "-", "?", "#", "%":
            var operation = modifier!
            let nullIsUnset = operation == ":"
            if nullIsUnset {
                let following = next()
                modifierText += following.map { String($0) } ?? ""
                guard let following else {
                    throw ExpansionFailure("unsupported modifier (\(modifierText)) in substitution")
                }
                operation = following
            }
            guard ["+", "-", "?", "#", "%"].contains(operation) else {
                // Go falls through to the modifier handling first: the word is read before the error.
                _ = try readModifierWord(rawEscapes: false)
                if !nullIsUnset || lookup(name) != nil || !lexer.skipUnsetEnv {
                    throw ExpansionFailure("unsupported modifier (\(modifierText)) in substitution")
                }
                return ""
            }
            let usesPattern = operation == "#" || operation == "%"
            if nullIsUnset && usesPattern {
                throw ExpansionFailure("unsupported modifier (\(modifierText)) in substitution")
            }
            var word = try readModifierWord(rawEscapes: usesPattern)
            let value = lookup(name)
            if lexer.skipUnsetEnv && value == nil {
                return "${\(name)\(modifierText)\(word)}"
            }
            switch operation {
            case "-":
                if value == nil || (nullIsUnset && value == "") { return word }
                return value!
            case "+":
                if value == nil || (nullIsUnset && value == "") { return "" }
                return word
            case "?":
                guard let value else {
                    throw ExpansionFailure("\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
                }
                if nullIsUnset && value.isEmpty {
                    throw ExpansionFailure("\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
                }
                return value
            default:
                var greedy = false
                if word.unicodeScalars.first == operation {
                    greedy = true
                    word = String(word.unicodeScalars.dropFirst())
                }
                let pattern: ShellPattern
                do {
                    pattern = try ShellPattern(word)
                } catch {
                    throw ExpansionFailure("invalid pattern (\(word)) in substitution: \(error.reason)")
                }
                return operation == "%"
                    ? pattern.removingSuffix(from: value ?? "", greedy: greedy)
                    : pattern.removingPrefix(from: value ?? "", greedy: greedy)
            }
        case "/":
            let replaceAll = peek() == "/"
            if replaceAll { next() }
            let patternText: String
            do {
                patternText = try process(stopAt: "/", rawEscapes: true).0
            } catch {
                if peek() == nil { throw ExpansionFailure("syntax error: missing '/' in ${}") }
                throw error
            }
            let replacement = try readModifierWord(rawEscapes: true)
            let value = lookup(name)
            if lexer.skipUnsetEnv && value == nil {
                return "${\(name)/\(patternText)/\(replacement)}"
            }
            let pattern: ShellPattern
            do {
                pattern = try ShellPattern(patternText)
            } catch {
                throw ExpansionFailure("invalid pattern (\(patternText)) in substitution: \(error.reason)")
            }
            return pattern.replacing(in: value ?? "", with: replacement, all: replaceAll)
        default:
            throw ExpansionFailure("unsupported modifier (\(modifierText)) in substitution")
        }
    }

    /// Reads the word of a `${name<op>word}` up to the closing brace.
    private mutating func readModifierWord(rawEscapes: Bool) throws(ExpansionFailure) -> String {
        do {
            return try process(stopAt: "}", rawEscapes: rawEscapes).0
        } catch {
            if peek() == nil { throw ExpansionFailure("syntax error: missing '}'") }
            throw error
        }
    }

    private mutating func processName() -> String {
        var name = String.UnicodeScalarView()
        while let scalar = peek() {
            if name.isEmpty && isGoDigit(scalar) {
                while let digit = peek(), isGoDigit(digit) {
                    name.append(digit)
                    next()
                }
                return String(name)
            }
            if name.isEmpty && Self.isSpecialParameter(scalar) {
                next()
                return String(scalar)
            }
            guard isGoLetter(scalar) || isGoDigit(scalar) || scalar == "_" else { break }
            name.append(scalar)
            next()
        }
        return String(name)
    }

    private static func isSpecialParameter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "@", "*", "#", "?", "-", "$", "!", "0": return true
        default: return false
        }
    }

    private mutating func processPossibleHeredoc() -> String {
        next()
        guard peek() == "<" else { return "<" }
        next()
        var result = "<<"
        while let scalar = peek(), scalar == "\t" || scalar == "\r" || scalar == " " {
            result.unicodeScalars.append(scalar)
            next()
        }
        return result
    }

    private mutating func lookup(_ name: String) -> String? {
        if let value = variables.value(of: name) {
            matched.insert(name)
            return value
        }
        unmatched.insert(name)
        return nil
    }
}
