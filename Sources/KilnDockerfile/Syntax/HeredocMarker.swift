/// Recognises heredoc markers (`<<EOF`, `<<-"EOF"`, `3<<EOF`) the way BuildKit's parser does.
public enum HeredocMarker {
    /// The heredoc a single word opens, nil when the word is not a heredoc marker.
    ///
    /// - Throws: when the delimiter is malformed (an unterminated quote).
    public static func parse(_ word: String) throws(DockerfileError) -> Heredoc? {
        // ^(\d*)<<(-?)\s*([^<]*)$
        let scalars = Array(word.unicodeScalars)
        var index = 0
        while index < scalars.count, scalars[index] >= "0" && scalars[index] <= "9" { index += 1 }
        let digits = String(String.UnicodeScalarView(scalars[0..<index]))
        guard index + 1 < scalars.count, scalars[index] == "<", scalars[index + 1] == "<" else { return nil }
        index += 2
        var chomp = false
        if index < scalars.count, scalars[index] == "-" {
            chomp = true
            index += 1
        }
        while index < scalars.count, [" ", "\t", "\n", "\u{0C}", "\r"].contains(scalars[index]) { index += 1 }
        let rest = scalars[index...]
        guard !rest.contains("<") else { return nil }
        guard !rest.isEmpty else { return nil }
        let restText = String(String.UnicodeScalarView(rest))

        var lexer = ShellLexer(escapeToken: "\\")
        lexer.skipUnsetEnv = true
        let words: [String]
        let rawWords: [String]
        do {
            words = try lexer.processWords(restText, with: EmptyVariables())
            guard words.count == 1 else { return nil }
            lexer.rawQuotes = true
            rawWords = try lexer.processWords(restText, with: EmptyVariables())
        } catch {
            throw DockerfileError(error.description)
        }
        guard rawWords.count == words.count else {
            throw DockerfileError("internal lexing of heredoc produced inconsistent results: \(restText)")
        }
        func quoteCount(_ text: String) -> Int { text.unicodeScalars.filter { $0 == "'" || $0 == "\"" }.count }
        return Heredoc(
            name: words[0],
            fileDescriptor: Int(digits) ?? 0,
            expand: quoteCount(words[0]) == quoteCount(rawWords[0]),
            chomp: chomp
        )
    }

    /// The heredocs opened on an instruction line, in order.
    public static func heredocs(inLine line: String) throws(DockerfileError) -> [Heredoc] {
        var lexer = ShellLexer(escapeToken: "\\")
        lexer.rawQuotes = true
        lexer.rawEscapes = true
        lexer.skipUnsetEnv = true
        let words = (try? lexer.processWords(line, with: EmptyVariables())) ?? []
        var result: [Heredoc] = []
        for word in words {
            if let heredoc = try parse(word) { result.append(heredoc) }
        }
        return result
    }
}
