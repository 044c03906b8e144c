/// A shell wildcard pattern of `${var#pattern}`, `${var%pattern}` and `${var/pattern/replacement}`:
/// `*` matches any run of characters, `?` one character (neither matches a newline, as in BuildKit,
/// which compiles the pattern to a Go regular expression), `\*`, `\?` and `\\` are literals, and
/// `\}`/`\/` stand for `}` and `/`.
struct ShellPattern {
    enum Token: Equatable {
        case literal(Unicode.Scalar)
        case any
        case star
    }

    let tokens: [Token]

    init(_ text: String) throws(ExpansionFailure) {
        var tokens: [Token] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*": tokens.append(.star)
            case "?": tokens.append(.any)
            case "\\":
                let following = index < scalars.count ? scalars[index] : nil
                if following == "}" || following == "/" { continue }
                guard let following, following == "*" || following == "?" || following == "\\" else {
                    throw ExpansionFailure("invalid escape '\\\(following.map { String($0) } ?? "")'")
                }
                index += 1
                tokens.append(.literal(following))
            default:
                tokens.append(.literal(scalar))
            }
        }
        self.tokens = tokens
    }

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    /// `${value#pattern}` (shortest) or `${value##pattern}` (longest).
    func removingPrefix(from value: String, greedy: Bool) -> String {
        let scalars = Array(value.unicodeScalars)
        var matcher = Matcher(tokens: tokens, subject: scalars, greedy: greedy)
        guard let end = matcher.match(from: 0) else { return value }
        return String(String.UnicodeScalarView(scalars[end...]))
    }

    /// `${value%pattern}` (shortest) or `${value%%pattern}` (longest): a prefix match on the reversed text.
    func removingSuffix(from value: String, greedy: Bool) -> String {
        let reversed = Array(value.unicodeScalars.reversed())
        var matcher = Matcher(tokens: tokens.reversed(), subject: reversed, greedy: greedy)
        guard let end = matcher.match(from: 0) else { return value }
        return String(String.UnicodeScalarView(reversed[end...].reversed()))
    }

    /// `${value/pattern/replacement}` and `${value//pattern/replacement}`, with Go's leftmost-first
    /// matching and, for the replace-all form, Go's `$` template expansion in `replacement`.
    func replacing(in value: String, with replacement: String, all: Bool) -> String {
        let scalars = Array(value.unicodeScalars)
        var matcher = Matcher(tokens: tokens, subject: scalars, greedy: true)
        func slice(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        guard all else {
            guard let (start, end) = matcher.firstMatch(from: 0) else { return value }
            return slice(0..<start) + replacement + slice(end..<scalars.count)
        }
        var result = ""
        var lastMatchEnd = 0
        var searchPosition = 0
        while searchPosition <= scalars.count, let (start, end) = matcher.firstMatch(from: searchPosition) {
            result += slice(lastMatchEnd..<start)
            if end > lastMatchEnd || start == 0 {
                result += Self.expandTemplate(replacement, match: slice(start..<end))
            }
            lastMatchEnd = end
            searchPosition = searchPosition + 1 > end ? searchPosition + 1 : end
        }
        return result + slice(lastMatchEnd..<scalars.count)
    }

    /// Go's `Regexp.Expand` for a pattern without capture groups: `$$` is `$`, `$0`/`${0}` the match,
    /// any other well-formed reference is empty, and a malformed one is kept as written.
    private static func expandTemplate(_ template: String, match: String) -> String {
        let scalars = Array(template.unicodeScalars)
        var result = ""
        var index = 0
        func isNameScalar(_ s: Unicode.Scalar) -> Bool { s == "_" || isGoLetter(s) || isGoDigit(s) }
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "$", index + 1 < scalars.count else {
                result.unicodeScalars.append(scalar)
                index += 1
                continue
            }
            let following = scalars[index + 1]
            if following == "$" {
                result += "$"
                index += 2
                continue
            }
            var nameStart = index + 1
            var nameEnd = nameStart
            var afterName: Int
            if following == "{" {
                nameStart += 1
                nameEnd = nameStart
                while nameEnd < scalars.count, isNameScalar(scalars[nameEnd]) { nameEnd += 1 }
                guard nameEnd > nameStart, nameEnd < scalars.count, scalars[nameEnd] == "}" else {
                    result += "$"
                    index += 1
                    continue
                }
                afterName = nameEnd + 1
            } else {
                while nameEnd < scalars.count, isNameScalar(scalars[nameEnd]) { nameEnd += 1 }
                guard nameEnd > nameStart else {
                    result += "$"
                    index += 1
                    continue
                }
                afterName = nameEnd
            }
            let name = String(String.UnicodeScalarView(scalars[nameStart..<nameEnd]))
            if let number = Int(name), number == 0, name.allSatisfy(\.isASCII) { result += match }
            index = afterName
        }
        return result
    }
}

/// Backtracking matcher that tries alternatives in the order a Perl-style regex engine prefers them,
/// so its first match is the one Go's leftmost-first `regexp` reports.
private struct Matcher {
    let tokens: [ShellPattern.Token]
    let subject: [Unicode.Scalar]
    let greedy: Bool
    private var memo: [Int: Int?] = [:]

    init(tokens: [ShellPattern.Token], subject: [Unicode.Scalar], greedy: Bool) {
        self.tokens = tokens
        self.subject = subject
        self.greedy = greedy
    }

    /// The end of the preferred match that starts at `start`, if any.
    mutating func match(from start: Int) -> Int? {
        memo.removeAll(keepingCapacity: true)
        return match(token: 0, at: start)
    }

    /// The leftmost match at or after `position`.
    mutating func firstMatch(from position: Int) -> (Int, Int)? {
        var start = position
        while start <= subject.count {
            if let end = match(from: start) { return (start, end) }
            start += 1
        }
        return nil
    }

    private mutating func match(token: Int, at position: Int) -> Int? {
        if token == tokens.count { return position }
        let key = token * (subject.count + 1) + position
        if let known = memo[key] { return known }
        let result: Int?
        switch tokens[token] {
        case .literal(let scalar):
            result = position < subject.count && subject[position] == scalar ? match(token: token + 1, at: position + 1) : nil
        case .any:
            result = position < subject.count && subject[position] != "\n" ? match(token: token + 1, at: position + 1) : nil
        case .star:
            var limit = position
            while limit < subject.count, subject[limit] != "\n" { limit += 1 }
            var found: Int?
            if greedy {
                for end in stride(from: limit, through: position, by: -1) {
                    if let matched = match(token: token + 1, at: end) { found = matched; break }
                }
            } else {
                for end in position...limit {
                    if let matched = match(token: token + 1, at: end) { found = matched; break }
                }
            }
            result = found
        }
        memo[key] = result
        return result
    }
}
