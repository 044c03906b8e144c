#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KilnArchive
import KilnOCI

/// Unpacked layers, one directory per diffID (`snapshots/<hex>/rootfs`), ready to be stacked as overlayfs
/// lower directories. Whiteouts are kept in overlayfs form (0:0 character devices, opaque xattrs), so
/// each snapshot holds only its own layer. Holders take references so that pruning leaves in-use snapshots.
public struct SnapshotStore: Sendable {
    let store: LayoutStore

    public init(store: LayoutStore) {
        self.store = store
    }

    var layout: StoreLayout { store.layout }

    /// The root filesystem directory of the snapshot of `diffID`.
    public func rootfs(for diffID: Digest) -> String { layout.snapshotPath(diffID) + "/rootfs" }

    public func exists(_ diffID: Digest) -> Bool { FileSystem.exists(layout.snapshotPath(diffID) + "/committed") }

    /// Unpacks `layer` (once; later calls return the existing snapshot) and returns its diffID. A layer
    /// whose diffID is not known yet (just pulled) is hashed while it is unpacked, in the same pass.
    @discardableResult
    public func prepare(layer: Descriptor) throws -> Digest {
        let known = store.knownLayerInfo(layer.digest)
        if let known, exists(known.diffID) { return known.diffID }
        let staging = layout.snapshotsDirectory + "/.staging-" + UUID().uuidString
        try FileSystem.createDirectory(staging + "/rootfs")
        do {
            var reader = TarReader(source: DigestingSource(DecompressingSource(try store.openBlob(layer.digest))))
            var options = SafeExtractor.Options()
            options.whiteouts = geteuid() == 0 ? .overlay : .keepAsFiles
            var extractor = try SafeExtractor(root: staging + "/rootfs", options: options)
            try extractor.extractAll(from: &reader)
            let stream = try reader.drain()
            let info = LayerInfo(diffID: stream.digest, uncompressedSize: stream.count)
            if let known, known != info {
                throw StoreError(.corrupt, "layer \(layer.digest) unpacks to \(info.diffID), recorded as \(known.diffID)")
            }
            if known == nil { try store.remember(info, for: layer.digest) }
            try FileSystem.writeAtomically(Array(info.diffID.description.utf8), to: staging + "/committed")
            let destination = layout.snapshotPath(info.diffID)
            if rename(staging, destination) != 0 {
                // Another process unpacked the same layer first; theirs is as good as ours.
                guard exists(info.diffID) else { throw StoreError.system("rename", destination) }
                try FileSystem.remove(staging)
            }
            return info.diffID
        } catch {
            try? FileSystem.remove(staging)
            throw error
        }
    }

    /// Makes `directory` (an overlay upper directory that was just committed as the layer `diffID`) the
    /// snapshot of that layer, by renaming it into place; when the snapshot exists already the directory
    /// is removed instead. Saves unpacking a layer kiln has just produced.
    public func adopt(directory: String, diffID: Digest) throws {
        if exists(diffID) {
            try FileSystem.remove(directory)
            return
        }
        let staging = layout.snapshotsDirectory + "/.staging-" + UUID().uuidString
        try FileSystem.createDirectory(staging)
        do {
            guard rename(directory, staging + "/rootfs") == 0 else { throw StoreError.system("rename", directory) }
            try FileSystem.writeAtomically(Array(diffID.description.utf8), to: staging + "/committed")
            if rename(staging, layout.snapshotPath(diffID)) != 0 {
                guard exists(diffID) else { throw StoreError.system("rename", layout.snapshotPath(diffID)) }
                try FileSystem.remove(staging)
            }
        } catch {
            try? FileSystem.remove(staging)
            throw error
        }
    }

    /// Marks the snapshot as used by `holder` (a build, a container) until ``release(_:holder:)``.
    public func acquire(_ diffID: Digest, holder: String) throws {
        let references = layout.snapshotPath(diffID) + "/references"
        try FileSystem.createDirectory(references)
        try FileSystem.writeAtomically([], to: references + "/" + holder)
    }

    public func release(_ diffID: Digest, holder: String) throws {
        try FileSystem.remove(layout.snapshotPath(diffID) + "/references/" + holder)
    }

    /// The holders of a snapshot.
    public func holders(of diffID: Digest) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshotPath(diffID) + "/references")) ?? []
    }

    /// Removes snapshots that no image uses and nobody holds, and abandoned staging directories.
    func removeUnused(keeping used: Set<String>) throws -> [String] {
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layout.snapshotsDirectory)) ?? [] {
            let path = layout.snapshotsDirectory + "/" + name
            if name.hasPrefix(".staging-") {
                try FileSystem.remove(path)
                removed.append("interrupted snapshot \(name)")
                continue
            }
            guard !used.contains(name), let diffID = try? Digest(parsing: "sha256:" + name), holders(of: diffID).isEmpty else { continue }
            try FileSystem.remove(path)
            removed.append("snapshot \(name)")
        }
        return removed
    }
}
