import Foundation
import KilnOCI
#if canImport(Glibc)
import Glibc
#endif

/// What a cached build step produced: the layer it added, or none (a step that changed nothing).
public struct CacheRecord: Sendable, Codable, Hashable {
    /// The step's cache key.
    public var key: Digest
    /// The layer the step added; nil when it changed no file.
    public var layer: Descriptor?
    public var diffID: Digest?
    public var uncompressedSize: Int64
    /// The step's name when it was recorded (`[builder 3/5] RUN make`), for `kiln cache ls`.
    public var step: String
    public var created: Date

    public init(key: Digest, layer: Descriptor?, diffID: Digest?, uncompressedSize: Int64, step: String, created: Date = Date()) {
        self.key = key
        self.layer = layer
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.step = step
        self.created = created
    }
}

/// A cache record with the time it was last used (its file's modification time).
public struct StoredCacheRecord: Sendable {
    public var record: CacheRecord
    public var lastUsed: Date
}

/// The build cache's records in the store: one small JSON file per key under `cache/records/`, written
/// atomically, so concurrent builds and a killed build never leave a half-written record. A hit touches the
/// file: its modification time is the last use, which pruning goes by (least recently used first).
public struct CacheRecordStore: Sendable {
    public let store: LayoutStore

    public init(store: LayoutStore) {
        self.store = store
    }

    private var directory: String { store.layout.cacheRecordsDirectory }

    private func path(_ key: Digest) -> String { directory + "/" + key.encoded + ".json" }

    /// The record of `key`, if there is one whose layer is still in the store.
    public func record(for key: Digest) -> CacheRecord? {
        guard let bytes = try? FileSystem.read(path(key)),
              let record = try? CanonicalJSON.decode(CacheRecord.self, from: Data(bytes)), record.key == key
        else { return nil }
        if let layer = record.layer, !store.hasBlob(layer.digest) { return nil }
        return record
    }

    /// Marks a record as used now.
    public func touch(_ key: Digest) {
        utimensat(AT_FDCWD, path(key), nil, 0)
    }

    public func save(_ record: CacheRecord) throws {
        try FileSystem.createDirectory(directory)
        let data: Data
        do {
            data = try CanonicalJSON.encode(record)
        } catch {
            throw StoreError(.io, "cannot encode cache record \(record.key)", cause: error)
        }
        try FileSystem.writeAtomically(Array(data), to: path(record.key))
    }

    /// Every readable record, with its last use.
    public func all() -> [StoredCacheRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var result: [StoredCacheRecord] = []
        for name in names where name.hasSuffix(".json") {
            let file = directory + "/" + name
            guard let bytes = try? FileSystem.read(file), let record = try? CanonicalJSON.decode(CacheRecord.self, from: Data(bytes)) else { continue }
            var info = stat()
            let lastUsed = stat(file, &info) == 0 ? Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)) : record.created
            result.append(StoredCacheRecord(record: record, lastUsed: lastUsed))
        }
        return result
    }

    public func remove(_ key: Digest) throws {
        try FileSystem.remove(path(key))
    }

    /// Layer blobs and snapshots the records keep alive.
    func referencedLayers() -> (blobs: Set<Digest>, diffIDs: Set<String>) {
        var blobs = Set<Digest>()
        var diffIDs = Set<String>()
        for stored in all() {
            if let layer = stored.record.layer { blobs.insert(layer.digest) }
            if let diffID = stored.record.diffID { diffIDs.insert(diffID.encoded) }
        }
        return (blobs, diffIDs)
    }
}
