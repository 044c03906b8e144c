#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KilnArchive
import KilnOCI

/// kiln's image store: an OCI image layout on disk that several kiln processes may use at once.
///
/// Blobs are immutable files named by digest and appear only complete (see ``BlobWriter``). `index.json`
/// lists the tagged images; it is read and rewritten atomically under an exclusive file lock.
public final class LayoutStore: Sendable {
    public let layout: StoreLayout

    /// Opens (creating if needed) the store at `root`.
    public init(root: String = StoreLayout.defaultRoot()) throws {
        layout = StoreLayout(root: root)
        for directory in [layout.blobsDirectory, layout.ingestDirectory, layout.snapshotsDirectory, layout.locksDirectory] {
            try FileSystem.createDirectory(directory)
        }
        if !FileSystem.exists(layout.layoutFile) {
            try FileSystem.writeAtomically(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: layout.layoutFile)
        }
        try FileLock.withLock(at: layout.indexLock) {
            if !FileSystem.exists(layout.indexFile) {
                try FileSystem.writeAtomically(Array(try CanonicalJSON.encode(Index(manifests: []))), to: layout.indexFile)
            }
        }
    }

    // MARK: Blobs

    public func hasBlob(_ digest: Digest) -> Bool {
        FileSystem.exists(layout.blobPath(digest))
    }

    /// A writer for a new blob; commit it to make it visible.
    public func blobWriter() throws -> BlobWriter {
        try BlobWriter(layout: layout)
    }

    /// A writer for the blob `digest` that continues what an interrupted download of it left in the store
    /// (see ``BlobWriter/resumedBytes``); a plain writer when another download of that blob runs right now.
    public func resumableBlobWriter(for digest: Digest) throws -> BlobWriter {
        try BlobWriter(layout: layout, resuming: digest) ?? BlobWriter(layout: layout)
    }

    /// Stores `bytes` (if not already present) and returns their digest.
    @discardableResult
    public func putBlob(_ bytes: [UInt8], expected: Digest? = nil) throws -> Digest {
        let digest = Digest.sha256(of: bytes)
        if let expected, expected != digest {
            throw StoreError(.digestMismatch, "content has digest \(digest), expected \(expected)")
        }
        if hasBlob(digest) { return digest }
        let writer = try blobWriter()
        try writer.write(bytes)
        return try writer.commit(expected: digest).digest
    }

    /// Stores an encodable value as canonical JSON and returns its descriptor.
    public func putJSON(_ value: some Encodable, mediaType: MediaType) throws -> Descriptor {
        let (data, digest) = try CanonicalJSON.encodeWithDigest(value)
        try putBlob(Array(data), expected: digest)
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    /// The whole content of a (small) blob, verified against its digest.
    public func readBlob(_ digest: Digest) throws -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(layout.blobPath(digest))
        } catch {
            throw StoreError(.notFound, "blob \(digest) not found in \(layout.root)")
        }
        guard Digest.sha256(of: bytes) == digest else {
            throw StoreError(.digestMismatch, "blob \(digest) is corrupt (run kiln fsck)")
        }
        return bytes
    }

    /// A stream over a blob's content.
    public func openBlob(_ digest: Digest) throws -> BlobSource {
        guard hasBlob(digest) else { throw StoreError(.notFound, "blob \(digest) not found in \(layout.root)") }
        return try BlobSource(path: layout.blobPath(digest))
    }

    /// The size of a stored blob.
    public func blobSize(_ digest: Digest) throws -> Int64 {
        var info = stat()
        guard stat(layout.blobPath(digest), &info) == 0 else { throw StoreError(.notFound, "blob \(digest) not found") }
        return Int64(info.st_size)
    }

    /// Every blob digest present.
    public func allBlobs() throws -> [Digest] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.blobsDirectory)) ?? []
        return names.compactMap { try? Digest(parsing: "sha256:" + $0) }.sorted()
    }

    // MARK: Index and tags

    /// The current index (tagged images).
    public func index() throws -> Index {
        let bytes = try FileSystem.read(layout.indexFile)
        do {
            return try CanonicalJSON.decode(Index.self, from: Data(bytes))
        } catch {
            throw StoreError(.corrupt, "\(layout.indexFile) cannot be read", cause: error)
        }
    }

    /// Reads, changes and rewrites `index.json` under the store's lock.
    public func updateIndex<T>(_ change: (inout Index) throws -> T) throws -> T {
        try FileLock.withLock(at: layout.indexLock) {
            var current = try index()
            let result = try change(&current)
            try FileSystem.writeAtomically(Array(try CanonicalJSON.encode(current)), to: layout.indexFile)
            return result
        }
    }

    /// Points `reference` at `descriptor` (an image manifest or index), replacing an older image of that name.
    public func tag(_ reference: ImageReference, _ descriptor: Descriptor) throws {
        var tagged = descriptor
        var annotations = tagged.annotations ?? [:]
        annotations[Descriptor.refNameAnnotation] = reference.description
        tagged.annotations = annotations
        try updateIndex { index in
            index.manifests.removeAll {
                $0.annotations?[Descriptor.refNameAnnotation] == reference.description
                    || ($0.digest == descriptor.digest && $0.annotations?[Descriptor.refNameAnnotation] == nil)
            }
            index.manifests.append(tagged)
            index.manifests.sort { ($0.annotations?[Descriptor.refNameAnnotation] ?? "") < ($1.annotations?[Descriptor.refNameAnnotation] ?? "") }
        }
    }

    /// Removes the tag `reference`; returns the descriptor it pointed at.
    @discardableResult
    public func untag(_ reference: ImageReference) throws -> Descriptor {
        try updateIndex { index in
            guard let position = index.manifests.firstIndex(where: { $0.annotations?[Descriptor.refNameAnnotation] == reference.description }) else {
                throw StoreError(.notFound, "no such image: \(reference.familiarDescription)")
            }
            return index.manifests.remove(at: position)
        }
    }

    /// Keeps an image without a name (docker's `<none>:<none>`), so it survives garbage collection.
    public func addUntagged(_ descriptor: Descriptor) throws {
        var entry = descriptor
        entry.annotations = nil
        try updateIndex { index in
            guard !index.manifests.contains(where: { $0.digest == descriptor.digest }) else { return }
            index.manifests.append(entry)
        }
    }

    /// Removes an unnamed image entry.
    public func removeUntagged(_ digest: Digest) throws {
        try updateIndex { index in
            index.manifests.removeAll { $0.digest == digest && $0.annotations?[Descriptor.refNameAnnotation] == nil }
        }
    }

    /// The images without a name.
    public func untaggedImages() throws -> [Descriptor] {
        try index().manifests.filter { $0.annotations?[Descriptor.refNameAnnotation] == nil }
    }

    /// The tagged images, as (reference, descriptor) pairs.
    public func taggedImages() throws -> [(reference: ImageReference, descriptor: Descriptor)] {
        try index().manifests.compactMap { descriptor in
            guard let name = descriptor.annotations?[Descriptor.refNameAnnotation], let reference = try? ImageReference(parsing: name)
            else { return nil }
            return (reference, descriptor)
        }
    }
}

/// A stored blob read as a stream.
public typealias BlobSource = FileByteSource
