import KilnGraph

/// A finding about a Dockerfile: an error or a warning, with where it points.
public struct Diagnostic: Sendable, Equatable {
    public enum Severity: String, Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var message: String
    public var range: SourceRange?
    /// The lint rule or warning id, for warnings (`NoEmptyContinuation`, `StageNameCasing`).
    public var ruleID: String?
    /// Text to point the caret at within the first line of `range`.
    public var token: String?

    public init(severity: Severity, message: String, range: SourceRange?, ruleID: String? = nil, token: String? = nil) {
        self.severity = severity
        self.message = message
        self.range = range
        self.ruleID = ruleID
        self.token = token
    }

    public init(_ error: DockerfileError) {
        self.init(severity: .error, message: error.message, range: error.range, token: error.token)
    }

    public init(_ warning: ParseWarning) {
        self.init(
            severity: .warning, message: warning.message,
            range: SourceRange(lines: warning.line, warning.line), ruleID: warning.ruleID)
    }
}

/// Prints diagnostics as `Dockerfile:12:5: error: message`, then the offending line and a caret under the column.
public struct DiagnosticRenderer: Sendable {
    /// The file name shown in the prefix.
    public var fileName: String
    private let lines: [Substring]

    public init(fileName: String, source: String) {
        self.fileName = fileName
        self.lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    }

    public func render(_ diagnostic: Diagnostic) -> String {
        let rule = diagnostic.ruleID.map { " [\($0)]" } ?? ""
        guard let range = diagnostic.range, range.start.line >= 1, range.start.line <= lines.count else {
            return "\(fileName): \(diagnostic.severity.rawValue): \(diagnostic.message)\(rule)"
        }
        var line = String(lines[range.start.line - 1])
        if line.hasSuffix("\r") { line.removeLast() }
        var column = range.start.column
        if column <= 1, let token = diagnostic.token, !token.isEmpty, let found = line.range(of: token) {
            column = line.distance(from: line.startIndex, to: found.lowerBound) + 1
        } else if column <= 1 {
            // Point at the instruction keyword, past any indentation.
            column = (line.firstIndex { $0 != " " && $0 != "\t" }.map { line.distance(from: line.startIndex, to: $0) } ?? 0) + 1
        }
        let gutter = "\(range.start.line) | "
        let caretIndent = String(line.prefix(column - 1).map { $0 == "\t" ? "\t" : " " })
        return """
            \(fileName):\(range.start.line):\(column): \(diagnostic.severity.rawValue): \(diagnostic.message)\(rule)
            \(gutter)\(line)
            \(String(repeating: " ", count: gutter.count))\(caretIndent)^
            """
    }
}
