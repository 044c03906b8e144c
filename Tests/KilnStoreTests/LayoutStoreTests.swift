import CKilnLinux
import Foundation
import KilnArchive
import KilnOCI
import Testing
@testable import KilnStore

/// A fresh store on tmpfs per test.
final class ScratchStore {
    let root: String
    let store: LayoutStore

    init() throws {
        root = "/dev/shm/kiln-store-\(UUID().uuidString)"
        store = try LayoutStore(root: root)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// A one-layer image from a small tar, tagged `name`.
    @discardableResult
    func makeImage(_ name: String, files: [String: String] = ["hello": "world"]) throws -> StoredImage {
        var writer = TarWriter(sink: MemorySink())
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            try writer.append(TarEntry(path: path, kind: .regular), contents: Array(text.utf8))
        }
        try writer.finish()
        let (layer, info) = try store.ingestLayer(from: MemorySource(writer.sink.bytes))
        var config = ImageConfig(platform: .host)
        config.rootfs = RootFS(diffIDs: [info.diffID])
        return try store.commitImage(config: config, layers: [layer], tags: [try ImageReference(parsing: name)])
    }
}

@Suite("Image store")
struct LayoutStoreTests {
    @Test("a new store is a valid OCI image layout")
    func layout() throws {
        let scratch = try ScratchStore()
        #expect(try String(contentsOfFile: scratch.root + "/oci-layout", encoding: .utf8) == #"{"imageLayoutVersion":"1.0.0"}"#)
        #expect(try scratch.store.index().manifests.isEmpty)
    }

    @Test("a blob lands under its digest only when complete and correct")
    func atomicBlobs() throws {
        let scratch = try ScratchStore()
        let writer = try scratch.store.blobWriter()
        try writer.write(Array("content".utf8))
        #expect(try scratch.store.allBlobs().isEmpty)
        #expect(throws: StoreError.self) { try writer.commit(expected: Digest.sha256(of: "other")) }
        #expect(try scratch.store.allBlobs().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/ingest").isEmpty)
        let digest = try scratch.store.putBlob(Array("content".utf8))
        #expect(try scratch.store.readBlob(digest) == Array("content".utf8))
    }

    @Test("layers are stored compressed with their diffID and size remembered", arguments: [CompressionFormat.gzip, .zstd, .none])
    func layers(_ compression: CompressionFormat) throws {
        let scratch = try ScratchStore()
        let tar = Array(repeating: Array("0123456789".utf8), count: 1000).flatMap { $0 }
        let (descriptor, info) = try scratch.store.ingestLayer(from: MemorySource(tar), compression: compression)
        #expect(info.diffID == Digest.sha256(of: tar))
        #expect(info.uncompressedSize == 10_000)
        #expect(descriptor.mediaType == compression.layerMediaType)
        try FileManager.default.removeItem(atPath: scratch.root + "/meta")
        #expect(try scratch.store.layerInfo(descriptor.digest) == info)
    }

    @Test("tags resolve by name, ID prefix and digest; retagging moves a name")
    func tags() throws {
        let scratch = try ScratchStore()
        let first = try scratch.makeImage("app:1")
        let second = try scratch.makeImage("app:2", files: ["other": "file"])
        #expect(try scratch.store.image("app:1").id == first.id)
        #expect(try scratch.store.image("docker.io/library/app:2").id == second.id)
        #expect(try scratch.store.image(String(first.id.encoded.prefix(8))).id == first.id)
        #expect(try scratch.store.image(first.id.description).id == first.id)
        try scratch.store.tag(try ImageReference(parsing: "app:1"), second.descriptor)
        #expect(try scratch.store.image("app:1").id == second.id)
        #expect(throws: StoreError.self) { try scratch.store.image("missing") }
    }

    @Test("save and load round-trip in both formats, keeping the image ID", arguments: ImageArchiveFormat.allCases)
    func saveLoad(_ format: ImageArchiveFormat) throws {
        let source = try ScratchStore()
        let image = try source.makeImage("roundtrip:1")
        let archive = try source.store.save([image], format: format, to: MemorySink()).bytes
        let path = "/dev/shm/kiln-archive-\(UUID().uuidString).tar"
        try Data(archive).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let target = try ScratchStore()
        let loaded = try target.store.load(from: path)
        #expect(loaded.map(\.id) == [image.id])
        #expect(loaded.first?.reference?.description == "docker.io/library/roundtrip:1")
        #expect(try target.store.check().isHealthy)
    }

    @Test("fsck finds corrupt and missing blobs; --repair removes corruption and garbage")
    func fsck() throws {
        let scratch = try ScratchStore()
        let image = try scratch.makeImage("checked:1")
        #expect(try scratch.store.check().isHealthy)
        let layerPath = scratch.store.layout.blobPath(image.manifest.layers[0].digest)
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: layerPath))
        try Data("half a blob".utf8).write(to: URL(fileURLWithPath: scratch.root + "/ingest/interrupted"))
        try scratch.store.putBlob(Array("nobody refers to me".utf8))
        let report = try scratch.store.check()
        #expect(report.problems.count == 1 && report.problems[0].contains("corrupt"))
        #expect(report.garbage.count == 2)
        let repaired = try scratch.store.check(repair: true)
        #expect(repaired.repaired.contains { $0.contains("removed corrupt blob") })
        let after = try scratch.store.check()
        #expect(after.problems == ["image docker.io/library/checked:1: layer \(image.manifest.layers[0].digest) is missing"])
    }

    @Test("garbage collection keeps what tagged images use")
    func garbageCollection() throws {
        let scratch = try ScratchStore()
        let kept = try scratch.makeImage("kept:1")
        let dropped = try scratch.makeImage("dropped:1", files: ["x": "y"])
        try scratch.store.untag(try ImageReference(parsing: "dropped:1"))
        let (removed, bytes) = try scratch.store.collectGarbage()
        #expect(removed.count == 3 && bytes > 0)
        #expect(!scratch.store.hasBlob(dropped.id))
        #expect(try scratch.store.check().isHealthy)
        #expect(try scratch.store.image("kept:1").id == kept.id)
    }

    @Test("platform selection follows containerd's variant fallbacks")
    func platformSelection() throws {
        func descriptor(_ platform: String) throws -> Descriptor {
            Descriptor(mediaType: .ociManifest, digest: Digest.sha256(of: platform), size: 1, platform: try Platform(parsing: platform))
        }
        let manifests = try ["linux/amd64", "linux/arm/v6", "linux/arm64"].map(descriptor)
        #expect(PlatformSelection.best(in: manifests, for: try Platform(parsing: "linux/arm/v7"))?.platform?.description == "linux/arm/v6")
        #expect(PlatformSelection.best(in: manifests, for: try Platform(parsing: "linux/arm64/v8"))?.platform?.description == "linux/arm64")
        #expect(PlatformSelection.best(in: manifests, for: try Platform(parsing: "linux/s390x")) == nil)
    }

    @Test("snapshots unpack a layer once, keep overlay whiteouts, and are pruned when unused",
          .enabled(if: geteuid() == 0, "overlay whiteouts need root"))
    func snapshots() throws {
        let scratch = try ScratchStore()
        var writer = TarWriter(sink: MemorySink())
        try writer.append(TarEntry(path: "dir", kind: .directory, mode: 0o755))
        try writer.append(TarEntry(path: "dir/.wh..wh..opq", kind: .regular))
        try writer.append(TarEntry(path: ".wh.gone", kind: .regular))
        try writer.append(TarEntry(path: "dir/file", kind: .regular), contents: [1])
        try writer.finish()
        let (layer, info) = try scratch.store.ingestLayer(from: MemorySource(writer.sink.bytes))
        let snapshots = SnapshotStore(store: scratch.store)
        #expect(try snapshots.prepare(layer: layer) == info.diffID)
        #expect(try snapshots.prepare(layer: layer) == info.diffID)
        let rootfs = snapshots.rootfs(for: info.diffID)
        var whiteout = stat()
        #expect(lstat(rootfs + "/gone", &whiteout) == 0 && whiteout.st_mode & S_IFMT == S_IFCHR && whiteout.st_rdev == 0)
        var opaque = [UInt8](repeating: 0, count: 2)
        #expect(getxattr(rootfs + "/dir", "trusted.overlay.opaque", &opaque, 2) == 1)
        try snapshots.acquire(info.diffID, holder: "build-1")
        try scratch.store.collectGarbage()
        #expect(snapshots.exists(info.diffID))
        try snapshots.release(info.diffID, holder: "build-1")
        try scratch.store.collectGarbage()
        #expect(!snapshots.exists(info.diffID))
    }
}
