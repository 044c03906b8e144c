#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KilnArchive
import KilnOCI

/// Writes one blob into the store: bytes go to a temp file under `ingest/` while they are hashed; on
/// ``commit(expected:)`` the file is fsynced and renamed to `blobs/sha256/<hex>` only if its digest (and size)
/// are the ones expected. A writer that is abandoned or fails leaves nothing under any digest.
///
/// A writer made with ``LayoutStore/resumableBlobWriter(for:)`` writes to `ingest/partial-<hex>` instead, holding
/// a lock on it: what an interrupted download (a failure, Ctrl-C, a killed process) wrote stays there, and the
/// next writer for that digest continues after it.
public final class BlobWriter: ByteSink {
    let layout: StoreLayout
    let temporaryPath: String
    private var descriptor: Int32
    private var hasher = DigestHasher()
    private var isClosed = false
    /// Keeps the partial file when the writer is suspended or dropped without a commit.
    private let isResumable: Bool
    /// Bytes an earlier writer left that this one continues from.
    public let resumedBytes: Int64

    init(layout: StoreLayout) throws {
        self.layout = layout
        temporaryPath = layout.ingestDirectory + "/" + UUID().uuidString
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.system("open", temporaryPath) }
        isResumable = false
        resumedBytes = 0
    }

    /// Opens `ingest/partial-<hex>` of `digest` and hashes what it holds; nil when another writer (in this
    /// or another process) holds it right now.
    init?(layout: StoreLayout, resuming digest: Digest) throws {
        self.layout = layout
        temporaryPath = layout.ingestDirectory + "/partial-" + digest.encoded
        let path = temporaryPath
        let file = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw StoreError.system("open", path) }
        guard flock(file, LOCK_EX | LOCK_NB) == 0 else {
            close(file)
            return nil
        }
        var existing = DigestHasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let read = buffer.withUnsafeMutableBytes { Glibc.read(file, $0.baseAddress, $0.count) }
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else {
                let error = StoreError.system("read", path)
                close(file)
                throw error
            }
            if read == 0 { break }
            buffer.withUnsafeBytes { existing.update(UnsafeRawBufferPointer(rebasing: $0[..<read])) }
        }
        descriptor = file
        hasher = existing
        isResumable = true
        resumedBytes = existing.count
    }

    deinit {
        if !isClosed {
            close(descriptor)
            if !isResumable { unlink(temporaryPath) }
        }
    }

    /// Bytes written so far (with those resumed).
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
        if let expected, expected != digest {
            abandon()
            throw StoreError(.digestMismatch, "blob content has digest \(digest), expected \(expected)")
        }
        if let expectedSize, expectedSize != size {
            abandon()
            throw StoreError(.sizeMismatch, "blob \(digest) has \(size) bytes, expected \(expectedSize)")
        }
        guard fsync(descriptor) == 0 else {
            let error = StoreError.system("fsync", temporaryPath)
            abandon()
            throw error
        }
        // Renamed while still open (and, when resumable, locked), so no other writer can start on this path
        // between the rename and the close.
        let destination = layout.blobPath(digest)
        guard rename(temporaryPath, destination) == 0 else {
            let error = StoreError.system("rename", destination)
            abandon()
            throw error
        }
        isClosed = true
        close(descriptor)
        FileSystem.syncDirectory((destination as NSString).deletingLastPathComponent)
        return (digest, size)
    }

    /// Stops writing: a resumable writer keeps what it wrote for the next one, any other drops it.
    public func suspend() {
        guard !isClosed else { return }
        guard isResumable else { return abandon() }
        isClosed = true
        close(descriptor)
    }

    /// Drops what was written.
    public func abandon() {
        guard !isClosed else { return }
        isClosed = true
        unlink(temporaryPath)
        close(descriptor)
    }
}
