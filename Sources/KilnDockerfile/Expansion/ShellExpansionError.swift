/// A failure to expand a word: a syntax error in `${…}` or a `${VAR:?message}` that fired.
public struct ShellExpansionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason, without the word (`syntax error: bad substitution`).
    public var reason: String
    /// The word that was being expanded.
    public var word: String

    public init(reason: String, word: String) {
        self.reason = reason
        self.word = word
    }

    /// The text BuildKit prints: `failed to process "word": reason`.
    public var description: String { "failed to process \(goQuoted(word)): \(reason)" }
}
