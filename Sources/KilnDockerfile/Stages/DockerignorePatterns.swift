/// Reads a `.dockerignore` file into its pattern list, with moby's `ignorefile.ReadAll` rules: `#` comments,
/// trimmed lines, empty lines dropped, paths cleaned and a leading `/` removed, `!` kept in front.
public enum DockerignorePatterns {
    public static func parse(_ text: String) -> [String] {
        var patterns: [String] = []
        var first = true
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = Substring(rawLine)
            if first, line.unicodeScalars.first == "\u{FEFF}" { line = Substring(line.unicodeScalars.dropFirst()) }
            first = false
            if line.hasPrefix("#") { continue }
            var pattern = String(line).trimmingGoSpace()
            if pattern.isEmpty { continue }
            var invert = false
            if pattern.hasPrefix("!") {
                invert = true
                pattern = String(pattern.dropFirst()).trimmingGoSpace()
            }
            if !pattern.isEmpty {
                pattern = PathText.clean(pattern)
                if pattern.count > 1 && pattern.hasPrefix("/") { pattern.removeFirst() }
            }
            patterns.append(invert ? "!" + pattern : pattern)
        }
        return patterns
    }
}
