import KilnGraph

/// A build step that failed, with where it came from in the Dockerfile.
public struct SolveError: Error, Sendable, CustomStringConvertible {
    /// The step's name (`[builder 3/5] RUN make`).
    public var step: String
    public var message: String
    public var sourceRanges: [SourceRange]
    /// The last lines the step printed, for a failing RUN.
    public var lastOutput: [String]

    public init(step: String, message: String, sourceRanges: [SourceRange] = [], lastOutput: [String] = []) {
        self.step = step
        self.message = message
        self.sourceRanges = sourceRanges
        self.lastOutput = lastOutput
    }

    public var description: String { "\(step): \(message)" }
}
