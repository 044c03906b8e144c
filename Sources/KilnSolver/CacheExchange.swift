import Foundation
import KilnArchive
import KilnOCI
import KilnRegistry
import KilnStore

/// Where a build cache is exported to or imported from (`--cache-to`, `--cache-from`).
public enum CacheLocation: Sendable, Equatable {
    /// An OCI image layout directory.
    case local(String)
    /// A manifest in a registry.
    case registry(ImageReference)
}

/// Moves build cache records (and, on request, `RUN --mount=type=cache` contents) between stores through
/// an OCI image layout or a registry.
///
/// The carrier is an OCI image manifest, like BuildKit's `image-manifest=true` cache: the layers are the
/// records' layer blobs (then one gzip tar per exported cache mount) and the config is a
/// `application/vnd.kiln.cache.config.v1+json` document listing the records by key. BuildKit's own cache
/// manifests cannot be used: their keys are digests of BuildKit's LLB, which kiln does not produce.
public struct CacheExchange: Sendable {
    public static let configMediaType: MediaType = "application/vnd.kiln.cache.config.v1+json"
    public static let artifactType: MediaType = "application/vnd.kiln.cache.v1"
    static let cacheMountAnnotation = "dev.kiln.cache-mount.id"

    /// The config document of a cache manifest.
    struct Config: Codable {
        struct Record: Codable {
            var key: Digest
            /// Index into the manifest's layers, nil for a step that added no layer.
            var layer: Int?
            var diffID: Digest?
            var uncompressedSize: Int64
            var step: String
        }

        struct CacheMount: Codable {
            var id: String
            var layer: Int
        }

        var records: [Record]
        var cacheMounts: [CacheMount]
    }

    /// What an export or import moved.
    public struct Summary: Sendable, Equatable {
        public var records = 0
        public var layers = 0
        public var cacheMounts = 0
    }

    public let store: LayoutStore
    public let registry: RegistryClient?

    public init(store: LayoutStore, registry: RegistryClient?) {
        self.store = store
        self.registry = registry
    }

    // MARK: Export

    /// Exports the records of `keys` (those the store has) and, with `includesCacheMounts`, every cache mount.
    @discardableResult
    public func export(keys: [Digest], includesCacheMounts: Bool, to location: CacheLocation) async throws -> Summary {
        let records = CacheRecordStore(store: store)
        var config = Config(records: [], cacheMounts: [])
        var layers: [Descriptor] = []
        var layerIndex: [Digest: Int] = [:]
        var seen = Set<Digest>()
        for key in keys where seen.insert(key).inserted {
            guard let record = records.record(for: key) else { continue }
            var index: Int?
            if let layer = record.layer {
                if layerIndex[layer.digest] == nil {
                    layerIndex[layer.digest] = layers.count
                    layers.append(layer)
                }
                index = layerIndex[layer.digest]
            }
            config.records.append(Config.Record(key: key, layer: index, diffID: record.diffID, uncompressedSize: record.uncompressedSize, step: record.step))
        }
        var summary = Summary(records: config.records.count, layers: layers.count, cacheMounts: 0)
        if includesCacheMounts {
            let mounts = CacheMountStore(layout: store.layout)
            for entry in mounts.entries() {
                guard let contents = mounts.contents(of: entry.id) else { continue }
                var (descriptor, _) = try store.commitLayer(directory: contents)
                descriptor.annotations = [Self.cacheMountAnnotation: entry.id]
                config.cacheMounts.append(Config.CacheMount(id: entry.id, layer: layers.count))
                layers.append(descriptor)
                summary.cacheMounts += 1
            }
        }
        let configDescriptor = try store.putJSON(config, mediaType: Self.configMediaType)
        var manifest = Manifest(config: configDescriptor, layers: layers)
        manifest.artifactType = Self.artifactType
        let manifestDescriptor = try store.putJSON(manifest, mediaType: .ociManifest)
        switch location {
        case .local(let directory):
            try writeLayout(manifestDescriptor, blobs: [configDescriptor] + layers, to: directory)
        case .registry(let reference):
            guard let registry else { throw SolveError(step: "exporting cache", message: "no registry client to push \(reference) with") }
            try await registry.pushManifest(manifestDescriptor, blobs: [configDescriptor] + layers, to: reference, from: store)
        }
        return summary
    }

    /// An OCI image layout holding the cache manifest (blobs copied, index.json written last).
    private func writeLayout(_ manifest: Descriptor, blobs: [Descriptor], to directory: String) throws {
        let blobDirectory = directory + "/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobDirectory, withIntermediateDirectories: true)
        for blob in blobs + [manifest] {
            let target = blobDirectory + "/" + blob.digest.encoded
            if FileManager.default.fileExists(atPath: target) { continue }
            let partial = target + ".partial"
            try? FileManager.default.removeItem(atPath: partial)
            try FileManager.default.copyItem(atPath: store.layout.blobPath(blob.digest), toPath: partial)
            try FileManager.default.moveItem(atPath: partial, toPath: target)
        }
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: directory + "/oci-layout"), options: .atomic)
        var entry = manifest
        entry.annotations = [Descriptor.refNameAnnotation: "latest"]
        entry.artifactType = Self.artifactType
        try CanonicalJSON.encode(Index(manifests: [entry])).write(to: URL(fileURLWithPath: directory + "/index.json"), options: .atomic)
    }

    // MARK: Import

    /// Imports the records of a cache (with their layers, verified) and cache mounts the store lacks.
    @discardableResult
    public func importCache(from location: CacheLocation) async throws -> Summary {
        let manifest: Manifest
        switch location {
        case .local(let directory):
            let indexData = try Data(contentsOf: URL(fileURLWithPath: directory + "/index.json"))
            let index = try CanonicalJSON.decode(Index.self, from: indexData)
            guard let entry = index.manifests.first(where: { $0.artifactType == Self.artifactType }) ?? index.manifests.first else {
                throw SolveError(step: "importing cache", message: "\(directory) holds no cache manifest")
            }
            try copyBlob(entry, from: directory)
            manifest = try store.decodeManifest(entry.digest)
        case .registry(let reference):
            guard let registry else { throw SolveError(step: "importing cache", message: "no registry client to pull \(reference) with") }
            let (descriptor, bytes) = try await registry.fetchManifest(reference)
            guard !descriptor.mediaType.isIndex else { throw SolveError(step: "importing cache", message: "\(reference) is not a kiln build cache") }
            try store.putBlob(bytes, expected: descriptor.digest)
            manifest = try store.decodeManifest(descriptor.digest)
        }
        guard manifest.config.mediaType == Self.configMediaType else {
            throw SolveError(step: "importing cache", message: "not a kiln build cache (config type \(manifest.config.mediaType))")
        }
        try await fetch([manifest.config], from: location)
        let config = try CanonicalJSON.decode(Config.self, from: Data(try store.readBlob(manifest.config.digest)))
        let needed = Set(config.records.compactMap(\.layer) + config.cacheMounts.map(\.layer))
        for index in needed where index < 0 || index >= manifest.layers.count {
            throw SolveError(step: "importing cache", message: "cache config names layer \(index) of \(manifest.layers.count)")
        }
        try await fetch(needed.sorted().map { manifest.layers[$0] }, from: location)

        var summary = Summary(records: 0, layers: needed.count, cacheMounts: 0)
        let records = CacheRecordStore(store: store)
        for record in config.records where records.record(for: record.key) == nil {
            try records.save(CacheRecord(
                key: record.key, layer: record.layer.map { manifest.layers[$0] }, diffID: record.diffID,
                uncompressedSize: record.uncompressedSize, step: record.step))
            summary.records += 1
        }
        let mounts = CacheMountStore(layout: store.layout)
        for mount in config.cacheMounts {
            let layer = manifest.layers[mount.layer]
            let created = try mounts.create(mount.id) { directory in
                var reader = TarReader(source: DecompressingSource(try store.openBlob(layer.digest)))
                var extractor = try SafeExtractor(root: directory)
                try extractor.extractAll(from: &reader)
            }
            if created { summary.cacheMounts += 1 }
        }
        return summary
    }

    /// Brings `blobs` into the store (skipping those it has), verified against their digests.
    private func fetch(_ blobs: [Descriptor], from location: CacheLocation) async throws {
        switch location {
        case .local(let directory):
            for blob in blobs { try copyBlob(blob, from: directory) }
        case .registry(let reference):
            guard let registry else { return }
            try await withThrowingTaskGroup(of: Void.self) { group in
                var running = 0
                for blob in blobs {
                    if running == 4 {
                        try await group.next()
                        running -= 1
                    }
                    group.addTask { try await registry.fetchBlob(blob, repository: reference, into: store) }
                    running += 1
                }
                try await group.waitForAll()
            }
        }
    }

    /// Streams one blob of a layout directory into the store; a wrong digest lands nothing.
    private func copyBlob(_ blob: Descriptor, from directory: String) throws {
        if store.hasBlob(blob.digest) { return }
        var source = try FileByteSource(path: directory + "/blobs/\(blob.digest.algorithm)/\(blob.digest.encoded)")
        let writer = try store.blobWriter()
        do {
            while case let chunk = try source.read(upTo: 1 << 20), !chunk.isEmpty { try writer.write(chunk) }
            try writer.commit(expected: blob.digest, expectedSize: blob.size)
        } catch {
            writer.abandon()
            throw error
        }
    }
}

extension LayoutStore {
    func decodeManifest(_ digest: Digest) throws -> Manifest {
        try CanonicalJSON.decode(Manifest.self, from: Data(try readBlob(digest)))
    }
}
