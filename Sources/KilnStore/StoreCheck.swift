import Foundation
import KilnOCI

/// What `kiln fsck` found.
public struct StoreCheckReport: Sendable {
    /// Damage: corrupt or missing blobs, unreadable metadata, inconsistent images.
    public var problems: [String] = []
    /// Harmless leftovers: unreferenced blobs, interrupted writes, unused snapshots.
    public var garbage: [String] = []
    /// What `--repair` removed.
    public var repaired: [String] = []
    public var blobsChecked = 0
    public var imagesChecked = 0

    public var isHealthy: Bool { problems.isEmpty }
}

extension LayoutStore {
    /// Re-hashes every blob, checks that every image's manifests, configs and layers exist and parse,
    /// and lists garbage. With `repair`, corrupt blobs and garbage are removed.
    public func check(repair: Bool = false) throws -> StoreCheckReport {
        var report = StoreCheckReport()
        var corrupt = Set<Digest>()
        for digest in try allBlobs() {
            report.blobsChecked += 1
            let source = try openBlob(digest)
            var hasher = DigestHasher()
            while case let chunk = try source.read(upTo: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
            if hasher.finalize() != digest {
                corrupt.insert(digest)
                report.problems.append("blob \(digest) is corrupt: its content hashes to \(hasher.finalize())")
            }
        }
        let unparsable = (try? FileManager.default.contentsOfDirectory(atPath: layout.blobsDirectory))?
            .filter { (try? Digest(parsing: "sha256:" + $0)) == nil } ?? []
        for name in unparsable { report.garbage.append("stray file blobs/sha256/\(name)") }

        var referenced = Set<Digest>()
        let index: Index
        do {
            index = try self.index()
        } catch {
            report.problems.append("\(layout.indexFile) cannot be read: \(error)")
            return report
        }
        for descriptor in index.manifests {
            report.imagesChecked += 1
            let name = descriptor.annotations?[Descriptor.refNameAnnotation] ?? descriptor.digest.description
            referenced.formUnion(checkImage(descriptor, name: name, corrupt: corrupt, into: &report))
        }
        referenced.formUnion(CacheRecordStore(store: self).referencedLayers().blobs)
        for digest in try allBlobs() where !referenced.contains(digest) && !corrupt.contains(digest) {
            report.garbage.append("unreferenced blob \(digest)")
        }
        let ingest = (try? FileManager.default.contentsOfDirectory(atPath: layout.ingestDirectory)) ?? []
        for name in ingest { report.garbage.append("interrupted write ingest/\(name)") }

        if repair {
            for digest in corrupt {
                try FileSystem.remove(layout.blobPath(digest))
                report.repaired.append("removed corrupt blob \(digest)")
            }
            report.repaired += try collectGarbage(keeping: referenced).removed
        }
        return report
    }

    /// Follows one index entry, recording what is missing or broken; returns the digests it reaches.
    private func checkImage(_ descriptor: Descriptor, name: String, corrupt: Set<Digest>, into report: inout StoreCheckReport) -> Set<Digest> {
        var reached: Set<Digest> = [descriptor.digest]
        func present(_ digest: Digest, _ what: String) -> Bool {
            if !hasBlob(digest) {
                report.problems.append("image \(name): \(what) \(digest) is missing")
                return false
            }
            return !corrupt.contains(digest)
        }
        guard present(descriptor.digest, descriptor.mediaType.isIndex ? "index" : "manifest") else { return reached }
        var manifests: [Descriptor] = [descriptor]
        if descriptor.mediaType.isIndex {
            guard let index = try? decode(Index.self, descriptor.digest, what: "index") else {
                report.problems.append("image \(name): index \(descriptor.digest) cannot be parsed")
                return reached
            }
            manifests = index.manifests.filter { hasBlob($0.digest) }
            reached.formUnion(manifests.map(\.digest))
        }
        for manifestDescriptor in manifests {
            guard let manifest = try? decode(Manifest.self, manifestDescriptor.digest, what: "manifest") else {
                report.problems.append("image \(name): manifest \(manifestDescriptor.digest) cannot be parsed")
                continue
            }
            reached.insert(manifest.config.digest)
            reached.formUnion(manifest.layers.map(\.digest))
            if present(manifest.config.digest, "config") {
                if let config = try? decode(ImageConfig.self, manifest.config.digest, what: "config") {
                    if config.rootfs.diffIDs.count != manifest.layers.count {
                        report.problems.append("image \(name): config lists \(config.rootfs.diffIDs.count) layers, manifest \(manifest.layers.count)")
                    }
                } else {
                    report.problems.append("image \(name): config \(manifest.config.digest) cannot be parsed")
                }
            }
            for layer in manifest.layers { _ = present(layer.digest, "layer") }
        }
        return reached
    }

    /// Removes blobs nobody references, interrupted writes, and unused snapshots and layer metadata.
    /// - Returns: what was removed and how many bytes that freed.
    @discardableResult
    public func collectGarbage(keeping extra: Set<Digest> = []) throws -> (removed: [String], bytes: Int64) {
        try FileLock.withLock(at: layout.indexLock) {
            // Layers of build cache records stay until `kiln cache prune` drops the records.
            let cached = CacheRecordStore(store: self).referencedLayers()
            var keep = extra.union(cached.blobs)
            for descriptor in try index().manifests {
                keep.formUnion((try? reachableBlobs(from: descriptor)) ?? [descriptor.digest])
            }
            var removed: [String] = []
            var bytes: Int64 = 0
            for digest in try allBlobs() where !keep.contains(digest) {
                bytes += (try? blobSize(digest)) ?? 0
                try FileSystem.remove(layout.blobPath(digest))
                try? FileSystem.remove(layerInfoDirectory + "/" + digest.encoded + ".json")
                removed.append("blob \(digest)")
            }
            // Interrupted writes older than a minute (younger ones may belong to a running kiln).
            let ingest = (try? FileManager.default.contentsOfDirectory(atPath: layout.ingestDirectory)) ?? []
            for name in ingest {
                let path = layout.ingestDirectory + "/" + name
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date.distantPast
                guard Date().timeIntervalSince(modified) > 60 else { continue }
                try FileSystem.remove(path)
                removed.append("interrupted write ingest/\(name)")
            }
            let usedSnapshots = cached.diffIDs.union(try index().manifests.flatMap { descriptor -> [String] in
                guard let image = try? image(descriptor: descriptor) else { return [] }
                return image.config.rootfs.diffIDs.map(\.encoded)
            })
            removed += try SnapshotStore(store: self).removeUnused(keeping: usedSnapshots)
            return (removed, bytes)
        }
    }
}
