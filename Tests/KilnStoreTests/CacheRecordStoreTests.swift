import Foundation
import KilnOCI
import Testing
@testable import KilnStore

@Suite("Build cache records")
struct CacheRecordStoreTests {
    /// A record whose layer is a blob of `size` random-ish bytes, last used `age` seconds ago.
    @discardableResult
    func record(_ name: String, size: Int, age: TimeInterval, in scratch: ScratchStore) throws -> CacheRecord {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ name.utf8.count) } + Array(name.utf8)
        let digest = try scratch.store.putBlob(bytes)
        let key = Digest.sha256(of: "key " + name)
        let record = CacheRecord(
            key: key, layer: Descriptor(mediaType: .ociLayerGzip, digest: digest, size: Int64(bytes.count)), diffID: Digest.sha256(of: name),
            uncompressedSize: 0, step: name)
        let records = CacheRecordStore(store: scratch.store)
        try records.save(record)
        let when = Date().addingTimeInterval(-age).timeIntervalSince1970
        var times = [timespec(tv_sec: Int(when), tv_nsec: 0), timespec(tv_sec: Int(when), tv_nsec: 0)]
        utimensat(AT_FDCWD, scratch.store.layout.cacheRecordsDirectory + "/" + key.encoded + ".json", &times, 0)
        return record
    }

    @Test("records round-trip; one whose layer blob is gone counts as absent")
    func roundTrip() throws {
        let scratch = try ScratchStore()
        let saved = try record("a", size: 100, age: 0, in: scratch)
        let records = CacheRecordStore(store: scratch.store)
        #expect(records.record(for: saved.key) == saved)
        try FileManager.default.removeItem(atPath: scratch.store.layout.blobPath(saved.layer!.digest))
        #expect(records.record(for: saved.key) == nil)
        #expect(records.record(for: Digest.sha256(of: "unknown")) == nil)
    }

    @Test("garbage collection keeps the layers of records; pruning the records frees them")
    func garbageCollection() throws {
        let scratch = try ScratchStore()
        let saved = try record("a", size: 100, age: 0, in: scratch)
        try scratch.store.collectGarbage()
        #expect(scratch.store.hasBlob(saved.layer!.digest))
        let (removed, _) = try CachePruner(store: scratch.store).prune()
        #expect(removed.map(\.description) == ["a"])
        #expect(!scratch.store.hasBlob(saved.layer!.digest))
    }

    @Test("the size limit removes least recently used records first; until= spares recent ones")
    func leastRecentlyUsed() throws {
        let scratch = try ScratchStore()
        try record("oldest", size: 4000, age: 3 * 86_400, in: scratch)
        try record("older", size: 4000, age: 2 * 86_400, in: scratch)
        try record("recent", size: 4000, age: 60, in: scratch)
        let pruner = CachePruner(store: scratch.store)
        #expect(try pruner.items().map(\.description) == ["recent", "older", "oldest"])

        #expect(try pruner.enforce(limit: 1 << 20).removed.isEmpty)
        let limited = try pruner.enforce(limit: 8500)
        #expect(limited.removed.map(\.description) == ["oldest"])
        #expect(limited.bytes > 0)

        let aged = try pruner.prune(unusedFor: 86_400)
        #expect(aged.removed.map(\.description) == ["older"])
        #expect(try pruner.items().map(\.description) == ["recent"])
    }

    @Test("layers an image also uses are shared: listed, but not counted against the limit")
    func shared() throws {
        let scratch = try ScratchStore()
        let image = try scratch.makeImage("app:1")
        let key = Digest.sha256(of: "image layer")
        try CacheRecordStore(store: scratch.store).save(CacheRecord(
            key: key, layer: image.manifest.layers[0], diffID: image.config.rootfs.diffIDs[0], uncompressedSize: 10, step: "COPY"))
        let items = try CachePruner(store: scratch.store).items()
        #expect(items.count == 1 && items[0].isShared)
        #expect(try CachePruner(store: scratch.store).enforce(limit: 0).removed.isEmpty)
    }
}
