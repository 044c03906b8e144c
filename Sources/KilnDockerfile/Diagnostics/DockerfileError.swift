import KilnGraph

/// An error in a Dockerfile, with the place it points at.
///
/// `message` is BuildKit's text for the same error (so users and tests can compare them); the renderer adds
/// the `Dockerfile:LINE:COL: error:` prefix and the offending line.
public struct DockerfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, without position.
    public var message: String
    /// Where, when known.
    public var range: SourceRange?
    /// The offending text (a flag, a word), used to point the column at it within the range's first line.
    public var token: String?

    public init(_ message: String, range: SourceRange? = nil, token: String? = nil) {
        self.message = message
        self.range = range
        self.token = token
    }

    public init(_ message: String, line: Int, column: Int = 1) {
        self.message = message
        self.range = SourceRange(start: SourcePosition(line: line, column: column), end: SourcePosition(line: line, column: column))
    }

    public var description: String { message }

    /// The same error placed at `range` unless it already has a place.
    func located(at range: SourceRange) -> DockerfileError {
        var copy = self
        if copy.range == nil { copy.range = range }
        return copy
    }
}
