import KilnGraph

/// A non-fatal finding of the parser (BuildKit's `parser.Warning`).
public struct ParseWarning: Sendable, Equatable {
    public var ruleID: String
    public var message: String
    public var detail: String
    public var url: String
    public var line: Int
}

/// The syntax tree of a Dockerfile with what the parser learned on the way.
public struct ParsedDockerfile: Sendable {
    /// The root node; its `children` are the instructions.
    public var root: Node
    /// The escape character in force (`\` or a backtick).
    public var escapeToken: Unicode.Scalar
    /// The parser directives at the top of the file.
    public var directives: [Directive]
    /// Warnings such as empty continuation lines.
    public var warnings: [ParseWarning]

    /// The instructions in order.
    public var instructions: [Node] { root.children }

    /// The value of directive `name`, if present.
    public func directive(_ name: String) -> String? {
        directives.first { $0.name == name }?.value
    }
}

/// Turns Dockerfile text into a syntax tree, line for line as BuildKit's `parser.Parse`.
public enum DockerfileParser {
    /// The longest line BuildKit's scanner reads, in bytes.
    public static let maximumLineLength = 65_535

    /// Parses `source`.
    ///
    /// - Throws: ``DockerfileError`` with the line where parsing failed.
    public static func parse(_ source: String) throws(DockerfileError) -> ParsedDockerfile {
        var parser = LineReader(source: source)
        return try parser.run()
    }
}

private struct LineReader {
    let lines: [Substring]
    /// The 0-based index of a line too long to read; reading stops before it.
    let overlongLine: Int?
    var cursor = 0
    var currentLine = 0
    var escapeToken: Unicode.Scalar = "\\"
    var directiveScanner = DirectiveScanner()
    var directives: [Directive] = []
    var warnings: [ParseWarning] = []

    init(source: String) {
        var text = Substring(source)
        if text.unicodeScalars.first == "\u{FEFF}" { text = Substring(text.unicodeScalars.dropFirst()) }
        var lines: [Substring] = []
        var overlong: Int?
        var start = text.startIndex
        let utf8 = text.utf8
        var index = utf8.startIndex
        while index < utf8.endIndex {
            if utf8[index] == UInt8(ascii: "\n") {
                let next = utf8.index(after: index)
                lines.append(text[start..<next])
                start = next
            }
            index = utf8.index(after: index)
        }
        if start < text.endIndex { lines.append(text[start...]) }
        for (number, line) in lines.enumerated() {
            let length = line.utf8.count - (line.utf8.last == UInt8(ascii: "\n") ? 1 : 0)
            if length > DockerfileParser.maximumLineLength {
                overlong = number
                lines.removeSubrange(number...)
                break
            }
        }
        self.lines = lines
        self.overlongLine = overlong
    }

    mutating func nextLine() -> Substring? {
        guard cursor < lines.count else { return nil }
        defer { cursor += 1 }
        return lines[cursor]
    }

    mutating func run() throws(DockerfileError) -> ParsedDockerfile {
        var root = Node(startLine: -1)
        var comments: [String] = []
        while let raw = nextLine() {
            if isComment(raw) {
                let comment = String(raw.unicodeScalars.dropFirst()).trimmingGoSpace()
                if comment.isEmpty { comments = [] } else { comments.append(comment) }
            }
            let (processed, wasDirective) = try processLine(raw, stripLeadingWhitespace: true, line: currentLine + 1)
            if wasDirective, !comments.isEmpty { comments.removeLast() }
            currentLine += 1
            let startLine = currentLine
            var (text, isEndOfLine) = trimContinuation(processed)
            if isEndOfLine && text.isEmpty { continue }

            var hasEmptyContinuationLine = false
            while !isEndOfLine, let continuation = nextLine() {
                let (processedContinuation, _) = try processLine(continuation, stripLeadingWhitespace: false, line: currentLine + 1)
                currentLine += 1
                if isComment(continuation) { continue }
                if processedContinuation.unicodeScalars.allSatisfy(isGoSpace) {
                    hasEmptyContinuationLine = true
                    continue
                }
                let (trimmed, endOfLine) = trimContinuation(processedContinuation)
                text += trimmed
                isEndOfLine = endOfLine
            }

            if hasEmptyContinuationLine {
                warnings.append(
                    ParseWarning(
                        ruleID: "NoEmptyContinuation",
                        message: "Empty continuation line found in: " + text,
                        detail: "Empty continuation lines will become errors in a future release",
                        url: "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/",
                        line: currentLine))
            }

            let location = SourceRange(lines: startLine, currentLine)
            var child: Node
            do {
                child = try makeNode(line: text, comments: comments)
            } catch {
                throw error.located(at: location)
            }

            if canContainHeredoc(child) && text.contains("<<") {
                let heredocs: [Heredoc]
                do {
                    heredocs = try HeredocMarker.heredocs(inLine: text)
                } catch {
                    throw error.located(at: location)
                }
                for var heredoc in heredocs {
                    var terminated = false
                    var content = ""
                    while let bodyLine = nextLine() {
                        currentLine += 1
                        var candidate = trimNewline(bodyLine)
                        if heredoc.chomp { candidate = Substring(candidate.unicodeScalars.drop { $0 == "\t" }) }
                        if candidate == heredoc.name {
                            terminated = true
                            break
                        }
                        content += bodyLine
                    }
                    guard terminated else {
                        throw DockerfileError("unterminated heredoc", range: SourceRange(lines: startLine, currentLine))
                    }
                    heredoc.content = content
                    child.heredocs.append(heredoc)
                }
            }
            child.startLine = startLine
            child.endLine = currentLine
            if root.startLine < 0 { root.startLine = startLine }
            root.endLine = currentLine
            root.children.append(child)
            comments = []
        }
        guard root.startLine >= 0 else {
            throw DockerfileError("file with no instructions", line: max(currentLine, 1))
        }
        if let overlongLine {
            throw DockerfileError(
                "dockerfile line greater than max allowed size of \(DockerfileParser.maximumLineLength)",
                line: overlongLine + 1)
        }
        return ParsedDockerfile(root: root, escapeToken: escapeToken, directives: directives, warnings: warnings)
    }

    /// Builds the node of one logical instruction line.
    func makeNode(line: String, comments: [String]) throws(DockerfileError) -> Node {
        let (keyword, flags, rest) = LineParser.splitCommand(line, escapeToken: escapeToken)
        let lowercased = keyword.lowercased()
        var arguments: [Node]
        var isJSON = false
        if lowercased == "onbuild" {
            arguments = rest.isEmpty ? [] : [Node(children: [try makeNode(line: rest, comments: [])])]
        } else {
            (arguments, isJSON) = try LineParser.parse(keyword: lowercased, rest: rest, escapeToken: escapeToken)
        }
        return Node(
            value: keyword, next: arguments, isJSON: isJSON, original: line, flags: flags,
            previousComments: comments)
    }

    func canContainHeredoc(_ node: Node) -> Bool {
        var node = node
        if node.keyword == "onbuild", let trigger = node.next.first?.children.first {
            node = trigger
        }
        return ["add", "copy", "run"].contains(node.keyword) && !node.isJSON
    }

    /// Removes the newline, optionally leading whitespace, feeds the directive scanner, and blanks comments.
    mutating func processLine(_ raw: Substring, stripLeadingWhitespace: Bool, line: Int) throws(DockerfileError) -> (String, Bool) {
        var token = trimNewline(raw)
        if stripLeadingWhitespace { token = Substring(token.unicodeScalars.drop(while: isGoSpace)) }
        var wasDirective = false
        do throws(DockerfileError) {
            if let directive = try directiveScanner.scan(token) {
                wasDirective = true
                if directive.name == "escape" {
                    guard directive.value == "\\" || directive.value == "`" else {
                        throw DockerfileError(
                            "invalid escape token '\(directive.value)' does not match ` or \\", line: line)
                    }
                    escapeToken = directive.value.unicodeScalars.first!
                }
                directives.append(Directive(name: directive.name, value: directive.value, line: line))
            }
        } catch {
            throw DockerfileError(error.message, line: line)
        }
        return (isComment(token) ? "" : String(token), wasDirective)
    }

    func isComment(_ line: Substring) -> Bool {
        line.unicodeScalars.first(where: { !isGoSpace($0) }) == "#"
    }

    func trimNewline(_ line: Substring) -> Substring {
        var end = line.endIndex
        while end > line.startIndex {
            let previous = line.index(before: end)
            guard line[previous] == "\n" || line[previous] == "\r" || line[previous] == "\r\n" else { break }
            end = previous
        }
        return line[line.startIndex..<end]
    }

    /// Removes a trailing escape (line continuation) unless it is itself escaped.
    func trimContinuation(_ line: String) -> (String, isEndOfLine: Bool) {
        let scalars = line.unicodeScalars
        var end = scalars.endIndex
        while end > scalars.startIndex {
            let previous = scalars.index(before: end)
            guard scalars[previous] == " " || scalars[previous] == "\t" else { break }
            end = previous
        }
        guard end > scalars.startIndex else { return (line, true) }
        let escapeIndex = scalars.index(before: end)
        guard scalars[escapeIndex] == escapeToken else { return (line, true) }
        if escapeIndex == scalars.startIndex { return ("", false) }
        guard scalars[scalars.index(before: escapeIndex)] != escapeToken else { return (line, true) }
        return (String(scalars[scalars.startIndex..<escapeIndex]), false)
    }
}
