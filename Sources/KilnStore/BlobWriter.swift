#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KilnArchive
import KilnOCI

/// Writes one blob into the store: bytes go to a temp file under `ingest/` while they are hashed; on
/// ``commit(expected:)`` the file is fsynced and renamed to `blobs/sha256/<hex>` only if its digest (and size)
/// are the ones expected. A writer that is abandoned or fails leaves nothing under any digest.
public final class BlobWriter: ByteSink {
    let layout: StoreLayout
    let temporaryPath: String
    private var descriptor: Int32
    private var hasher = DigestHasher()
    private var isClosed = false

    init(layout: StoreLayout) throws {
        self.layout = layout
        temporaryPath = layout.ingestDirectory + "/" + UUID().uuidString
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.system("open", temporaryPath) }
    }

    deinit {
        if !isClosed {
            close(descriptor)
            unlink(temporaryPath)
        }
    }

    /// Bytes written so far.
    public var count: Int64 { hasher.count }

    public func write(_ bytes: [UInt8]) throws {
        hasher.update(bytes)
        try FileSystem.writeAll(bytes, to: descriptor, path: temporaryPath)
    }

    /// Makes the blob visible under its digest and returns the digest and size.
    ///
    /// - Throws: ``StoreError`` `.digestMismatch`/`.sizeMismatch` when the content is not what was expected;
    ///   the temp file is removed and nothing lands in the store.
    @discardableResult
    public func commit(expected: Digest? = nil, expectedSize: Int64? = nil) throws -> (digest: Digest, size: Int64) {
        let digest = hasher.finalize()
        let size = hasher.count
        defer {
            isClosed = true
            unlink(temporaryPath)
        }
        if let expected, expected != digest {
            close(descriptor)
            throw StoreError(.digestMismatch, "blob content has digest \(digest), expected \(expected)")
        }
        if let expectedSize, expectedSize != size {
            close(descriptor)
            throw StoreError(.sizeMismatch, "blob \(digest) has \(size) bytes, expected \(expectedSize)")
        }
        guard fsync(descriptor) == 0 else {
            close(descriptor)
            throw StoreError.system("fsync", temporaryPath)
        }
        close(descriptor)
        let destination = layout.blobPath(digest)
        guard rename(temporaryPath, destination) == 0 else { throw StoreError.system("rename", destination) }
        FileSystem.syncDirectory((destination as NSString).deletingLastPathComponent)
        return (digest, size)
    }

    /// Drops what was written.
    public func abandon() {
        guard !isClosed else { return }
        isClosed = true
        close(descriptor)
        unlink(temporaryPath)
    }
}
