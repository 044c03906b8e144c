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

#if canImport(Glibc)
import Glibc
#endif

/// Reads a file (or standard input, for the path `-`) in chunks.
public final class FileByteSource: ByteSource {
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    public init(path: String) throws {
        self.path = path
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw ArchiveError.systemCall(name: "open", path: path, errno: errno) }
            ownsDescriptor = true
        }
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    public func read(upTo count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.systemCall(name: "read", path: path, errno: errno)
            }
            buffer.removeSubrange(got...)
            return buffer
        }
    }
}

/// Writes to a file descriptor: a file created (or truncated) at a path, or standard output.
public final class FileByteSink: ByteSink {
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Creates or truncates `path`.
    public init(path: String, mode: mode_t = 0o644) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw ArchiveError.systemCall(name: "open", path: path, errno: errno) }
        ownsDescriptor = true
    }

    /// Writes to an open descriptor (not closed at the end).
    public init(descriptor: Int32, name: String) {
        self.path = name
        self.descriptor = descriptor
        ownsDescriptor = false
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    public func write(_ bytes: [UInt8]) throws {
        try Self.writeAll(bytes, to: descriptor, path: path)
    }

    /// Writes every byte, retrying on interruption and short writes.
    public static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.systemCall(name: "write", path: path, errno: errno)
            }
            offset += count
        }
    }
}
