/// Splits a step's output into lines as it arrives in chunks.
enum OutputLines {
    /// Takes the complete, non-empty lines (ended by `\n` or `\r`) out of `buffer`, leaving the unfinished rest.
    static func take(from buffer: inout [UInt8]) -> [String] {
        var lines: [String] = []
        while let newline = buffer.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
            let line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            if !line.isEmpty { lines.append(line) }
        }
        return lines
    }
}
