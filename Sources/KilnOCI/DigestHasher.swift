import Crypto

/// Computes a SHA-256 ``Digest`` incrementally, for content that streams through (a layer, a download).
public struct DigestHasher {
    private var hasher = SHA256()
    /// The number of bytes hashed so far.
    public private(set) var count: Int64 = 0

    public init() {}

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        hasher.update(data: array)
        count += Int64(array.count)
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: buffer)
        count += Int64(buffer.count)
    }

    /// The digest of everything hashed.
    public func finalize() -> Digest {
        Digest(sha256: hasher.finalize())
    }
}
