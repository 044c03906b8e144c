import KilnOCI

/// Passes bytes on to another sink while hashing and counting them, so a layer's digest and size are known
/// the moment it is written.
public struct DigestingSink<Base: ByteSink>: ByteSink {
    public private(set) var base: Base
    private var hasher = DigestHasher()

    public init(_ base: Base) {
        self.base = base
    }

    public mutating func write(_ bytes: [UInt8]) throws {
        hasher.update(bytes)
        try base.write(bytes)
    }

    public var digest: Digest { hasher.finalize() }
    public var count: Int64 { hasher.count }
}

/// Hashes bytes read through it.
public struct DigestingSource<Base: ByteSource>: ByteSource {
    public private(set) var base: Base
    private var hasher = DigestHasher()

    public init(_ base: Base) {
        self.base = base
    }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        let bytes = try base.read(upTo: count)
        hasher.update(bytes)
        return bytes
    }

    public var digest: Digest { hasher.finalize() }
    public var count: Int64 { hasher.count }
}
