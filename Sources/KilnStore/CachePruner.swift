import Foundation
import KilnOCI

/// One item of the build cache as `kiln cache ls|du|prune` see it: a step's cache record or a
/// `RUN --mount=type=cache` directory.
public struct CacheItem: Sendable {
    public enum Kind: String, Sendable {
        case record = "regular"
        case cacheMount = "exec.cachemount"
    }

    public var kind: Kind
    /// The record's key, or the cache mount's id.
    public var id: String
    /// The step that made it, or the mount's id.
    public var description: String
    /// Bytes on disk: the layer blob and its snapshot, or the mount's tree.
    public var size: Int64
    public var lastUsed: Date
    /// Whether an image also uses it (pruning the cache does not free it).
    public var isShared: Bool
}

/// Lists and prunes the build cache: records least recently used first, with docker's `builder prune`
/// options (everything, `--keep-storage`, `--filter until=`), then removes the blobs and snapshots no
/// image and no remaining record needs.
public struct CachePruner: Sendable {
    public let store: LayoutStore

    public init(store: LayoutStore) {
        self.store = store
    }

    /// Every record and (unless `recordsOnly`) cache mount, most recently used first.
    public func items(recordsOnly: Bool = false) throws -> [CacheItem] {
        var imageBlobs = Set<Digest>()
        for descriptor in try store.index().manifests {
            imageBlobs.formUnion((try? store.reachableBlobs(from: descriptor)) ?? [])
        }
        var items: [CacheItem] = []
        let snapshots = SnapshotStore(store: store)
        for stored in CacheRecordStore(store: store).all() {
            var size: Int64 = 0
            var shared = false
            if let layer = stored.record.layer {
                size += layer.size
                shared = imageBlobs.contains(layer.digest)
            }
            if let diffID = stored.record.diffID, snapshots.exists(diffID) { size += stored.record.uncompressedSize }
            items.append(CacheItem(
                kind: .record, id: stored.record.key.encoded, description: stored.record.step, size: size, lastUsed: stored.lastUsed,
                isShared: shared))
        }
        for mount in recordsOnly ? [] : CacheMountStore(layout: store.layout).entries() {
            items.append(CacheItem(kind: .cacheMount, id: mount.id, description: "type=cache id=\(mount.id)", size: mount.size, lastUsed: mount.lastUsed, isShared: false))
        }
        return items.sorted { $0.lastUsed > $1.lastUsed }
    }

    /// The automatic collection after a build: when the records (not counting layers images share) take more
    /// than `limit` bytes, the least recently used go until the rest fits. Cache mounts are left alone.
    @discardableResult
    public func enforce(limit: Int64) throws -> (removed: [CacheItem], bytes: Int64) {
        let records = try items(recordsOnly: true)
        let total = records.filter { !$0.isShared }.reduce(Int64(0)) { $0 + $1.size }
        guard total > limit else { return ([], 0) }
        return try prune(keepStorage: limit, recordsOnly: true)
    }

    /// Removes cache items: with neither limit, all of them; `unusedFor` keeps those used more recently;
    /// `keepStorage` removes the least recently used until the rest (not counting what images share) fits.
    /// - Returns: the removed items and the bytes freed in the store.
    @discardableResult
    public func prune(
        keepStorage: Int64? = nil, unusedFor: TimeInterval? = nil, recordsOnly: Bool = false, now: Date = Date()
    ) throws -> (removed: [CacheItem], bytes: Int64) {
        let all = try items(recordsOnly: recordsOnly)
        var candidates = all
        if let unusedFor { candidates = candidates.filter { now.timeIntervalSince($0.lastUsed) >= unusedFor } }
        if let keepStorage {
            var total = all.filter { !$0.isShared }.reduce(Int64(0)) { $0 + $1.size }
            var chosen: [CacheItem] = []
            for item in candidates.reversed() where total > keepStorage {
                chosen.append(item)
                if !item.isShared { total -= item.size }
            }
            candidates = chosen
        }
        var removed: [CacheItem] = []
        let records = CacheRecordStore(store: store)
        let mounts = CacheMountStore(layout: store.layout)
        let before = FileSystem.diskUsage(store.layout.blobsDirectory) + FileSystem.diskUsage(store.layout.snapshotsDirectory)
            + FileSystem.diskUsage(mounts.directory)
        for item in candidates {
            switch item.kind {
            case .record:
                guard let key = try? Digest(parsing: "sha256:" + item.id) else { continue }
                try records.remove(key)
                removed.append(item)
            case .cacheMount:
                let entry = CacheMountStore.Entry(id: item.id, path: mounts.directory + "/" + Digest.sha256(of: Array(item.id.utf8)).encoded, size: item.size, lastUsed: item.lastUsed)
                if try mounts.remove(entry) { removed.append(item) }
            }
        }
        try store.collectGarbage()
        let after = FileSystem.diskUsage(store.layout.blobsDirectory) + FileSystem.diskUsage(store.layout.snapshotsDirectory)
            + FileSystem.diskUsage(mounts.directory)
        return (removed, max(0, before - after))
    }
}
