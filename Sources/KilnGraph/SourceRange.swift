/// A 1-based line and column in a source file (column counted in characters).
public struct SourcePosition: Sendable, Hashable, Codable, Comparable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int = 1) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// A span of source text, from `start` to `end` inclusive, like BuildKit's source map ranges.
public struct SourceRange: Sendable, Hashable, Codable {
    public var start: SourcePosition
    public var end: SourcePosition

    public init(start: SourcePosition, end: SourcePosition) {
        self.start = start
        self.end = end
    }

    /// A range covering whole lines `startLine...endLine`.
    public init(lines startLine: Int, _ endLine: Int) {
        self.start = SourcePosition(line: startLine)
        self.end = SourcePosition(line: max(startLine, endLine))
    }
}
