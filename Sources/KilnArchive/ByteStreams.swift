/// Where archive bytes go: a file, a compressor, a hasher, memory.
public protocol ByteSink {
    mutating func write(_ bytes: [UInt8]) throws
}

/// Where archive bytes come from; an empty result means the end.
public protocol ByteSource {
    mutating func read(upTo count: Int) throws -> [UInt8]
}

/// A sink that collects bytes in memory (for tests and small archives).
public struct MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public mutating func write(_ bytes: [UInt8]) { self.bytes += bytes }
}

/// A source over bytes in memory.
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public mutating func read(upTo count: Int) -> [UInt8] {
        let end = min(bytes.count, position + count)
        defer { position = end }
        return Array(bytes[position..<end])
    }
}
