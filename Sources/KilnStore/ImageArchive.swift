#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KilnArchive
import KilnOCI

/// Image archive formats for `kiln save` and `kiln load`.
public enum ImageArchiveFormat: String, Sendable, CaseIterable {
    /// A tar of an OCI image layout (`oci-layout`, `index.json`, `blobs/`).
    case oci
    /// `docker save`'s format (`manifest.json`, `repositories`, uncompressed layer tars).
    case docker
}

extension LayoutStore {
    /// Writes `images` as one archive to `sink` (deterministic: sorted entries, fixed times).
    public func save<Sink: ByteSink>(_ images: [StoredImage], format: ImageArchiveFormat, to sink: Sink) throws -> Sink {
        var writer = TarWriter(sink: sink)
        switch format {
        case .oci: try saveOCI(images, to: &writer)
        case .docker: try saveDocker(images, to: &writer)
        }
        try writer.finish()
        return writer.sink
    }

    private func saveOCI<Sink: ByteSink>(_ images: [StoredImage], to writer: inout TarWriter<Sink>) throws {
        var blobs = Set<Digest>()
        var manifests: [Descriptor] = []
        for image in images {
            blobs.formUnion(try reachableBlobs(from: image.descriptor))
            var descriptor = image.descriptor
            var annotations = descriptor.annotations ?? [:]
            annotations.removeValue(forKey: Descriptor.refNameAnnotation)
            if let reference = image.reference {
                annotations[Descriptor.refNameAnnotation] = reference.tag ?? reference.digest?.description
                annotations["io.containerd.image.name"] = reference.description
            }
            descriptor.annotations = annotations.isEmpty ? nil : annotations
            manifests.append(descriptor)
        }
        try writer.append(TarEntry(path: "blobs", kind: .directory, mode: 0o755))
        try writer.append(TarEntry(path: "blobs/sha256", kind: .directory, mode: 0o755))
        for digest in blobs.sorted() {
            try appendBlob(digest, as: "blobs/sha256/\(digest.encoded)", to: &writer)
        }
        try writer.append(TarEntry(path: "index.json", kind: .regular), contents: Array(try CanonicalJSON.encode(Index(manifests: manifests))))
        try writer.append(TarEntry(path: "oci-layout", kind: .regular), contents: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
    }

    private struct DockerManifestEntry: Codable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    private func saveDocker<Sink: ByteSink>(_ images: [StoredImage], to writer: inout TarWriter<Sink>) throws {
        var entries: [DockerManifestEntry] = []
        var written = Set<String>()
        var repositories: [String: [String: String]] = [:]
        try writer.append(TarEntry(path: "blobs", kind: .directory, mode: 0o755))
        try writer.append(TarEntry(path: "blobs/sha256", kind: .directory, mode: 0o755))
        for image in images {
            let configPath = "blobs/sha256/\(image.id.encoded)"
            if written.insert(configPath).inserted { try appendBlob(image.id, as: configPath, to: &writer) }
            var layers: [String] = []
            for layer in image.manifest.layers {
                let info = try layerInfo(layer.digest)
                let path = "blobs/sha256/\(info.diffID.encoded)"
                layers.append(path)
                guard written.insert(path).inserted else { continue }
                // docker load expects the uncompressed layer, whose digest is the diffID.
                try writer.beginEntry(TarEntry(path: path, kind: .regular, size: info.uncompressedSize))
                let source = DecompressingSource(try openBlob(layer.digest))
                while case let chunk = try source.read(upTo: 1 << 20), !chunk.isEmpty { try writer.writeContents(chunk) }
            }
            let tags = image.reference.map { [$0.familiarDescription] }
            if let reference = image.reference, let tag = reference.tag, let last = image.manifest.layers.last {
                let repository = String(reference.familiarDescription.dropLast(tag.count + 1))
                repositories[repository, default: [:]][tag] = try layerInfo(last.digest).diffID.encoded
            }
            entries.append(DockerManifestEntry(Config: configPath, RepoTags: tags, Layers: layers))
        }
        try writer.append(TarEntry(path: "manifest.json", kind: .regular), contents: Array(try CanonicalJSON.encode(entries)))
        try writer.append(TarEntry(path: "repositories", kind: .regular), contents: Array(try CanonicalJSON.encode(repositories)))
    }

    private func appendBlob<Sink: ByteSink>(_ digest: Digest, as path: String, to writer: inout TarWriter<Sink>) throws {
        try writer.beginEntry(TarEntry(path: path, kind: .regular, mode: 0o644, size: try blobSize(digest)))
        let source = try openBlob(digest)
        while case let chunk = try source.read(upTo: 1 << 20), !chunk.isEmpty { try writer.writeContents(chunk) }
    }

    /// Every blob an index or manifest refers to, itself included.
    public func reachableBlobs(from descriptor: Descriptor) throws -> Set<Digest> {
        var result: Set<Digest> = [descriptor.digest]
        if descriptor.mediaType.isIndex {
            let index = try decode(Index.self, descriptor.digest, what: "index")
            for manifest in index.manifests where hasBlob(manifest.digest) {
                result.formUnion(try reachableBlobs(from: manifest))
            }
        } else if descriptor.mediaType.isManifest {
            let manifest = try decode(Manifest.self, descriptor.digest, what: "manifest")
            result.insert(manifest.config.digest)
            result.formUnion(manifest.layers.map(\.digest))
        }
        return result
    }

    // MARK: Load

    /// Loads an OCI archive, an OCI layout directory, or a `docker save` archive (plain or compressed);
    /// returns the images loaded. Every blob is verified against its digest before it lands.
    public func load(from path: String) throws -> [StoredImage] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StoreError(.notFound, "\(path): no such file or directory")
        }
        if isDirectory.boolValue { return try loadUnpacked(path) }
        let scratch = layout.ingestDirectory + "/load-" + UUID().uuidString
        try FileSystem.createDirectory(scratch)
        defer { try? FileSystem.remove(scratch) }
        var reader = TarReader(source: DecompressingSource(try BlobSource(path: path)))
        var options = SafeExtractor.Options()
        options.whiteouts = .keepAsFiles
        options.preservesOwners = false
        options.allowsDevices = false
        var extractor = try SafeExtractor(root: scratch, options: options)
        do {
            try extractor.extractAll(from: &reader)
        } catch {
            throw StoreError(.corrupt, "\(path) is not a readable image archive", cause: error)
        }
        return try loadUnpacked(scratch)
    }

    private func loadUnpacked(_ directory: String) throws -> [StoredImage] {
        if FileSystem.exists(directory + "/index.json") && FileSystem.exists(directory + "/oci-layout") {
            return try loadOCILayout(directory)
        }
        if FileSystem.exists(directory + "/manifest.json") { return try loadDockerArchive(directory) }
        throw StoreError(.unsupported, "\(directory) holds neither an OCI layout nor a docker archive")
    }

    private func copyBlob(_ digest: Digest, from directory: String) throws {
        if hasBlob(digest) { return }
        let source = try BlobSource(path: "\(directory)/blobs/\(digest.algorithm)/\(digest.encoded)")
        let writer = try blobWriter()
        do {
            while case let chunk = try source.read(upTo: 1 << 20), !chunk.isEmpty { try writer.write(chunk) }
            try writer.commit(expected: digest)
        } catch {
            writer.abandon()
            throw error
        }
    }

    private func loadOCILayout(_ directory: String) throws -> [StoredImage] {
        let index = try CanonicalJSON.decode(Index.self, from: Data(try FileSystem.read(directory + "/index.json")))
        var loaded: [StoredImage] = []
        for descriptor in index.manifests {
            // Copy what the descriptor reaches, reading manifests from the source layout as we go.
            var pending = [descriptor]
            while let current = pending.popLast() {
                try copyBlob(current.digest, from: directory)
                if current.mediaType.isIndex {
                    pending += try decode(Index.self, current.digest, what: "index").manifests
                } else if current.mediaType.isManifest {
                    let manifest = try decode(Manifest.self, current.digest, what: "manifest")
                    try copyBlob(manifest.config.digest, from: directory)
                    for layer in manifest.layers { try copyBlob(layer.digest, from: directory) }
                }
            }
            var clean = descriptor
            let annotations = descriptor.annotations ?? [:]
            clean.annotations = nil
            // A ref.name that is only a tag (`oci:dir:3`) names no repository: the image is loaded unnamed.
            let refName = annotations[Descriptor.refNameAnnotation].flatMap { $0.contains(":") || $0.contains("/") ? $0 : nil }
            let name = annotations["io.containerd.image.name"] ?? refName
            let reference = name.flatMap { try? ImageReference(parsing: $0) }
            if let reference { try tag(reference, clean) } else { try addUntagged(clean) }
            loaded.append(try image(descriptor: clean, reference: reference))
        }
        return loaded
    }

    private struct DockerArchiveEntry: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    private func loadDockerArchive(_ directory: String) throws -> [StoredImage] {
        let entries = try CanonicalJSON.decode([DockerArchiveEntry].self, from: Data(try FileSystem.read(directory + "/manifest.json")))
        var loaded: [StoredImage] = []
        for entry in entries {
            guard let configPath = SafeExtractor.components(of: entry.Config)?.joined(separator: "/") else {
                throw StoreError(.corrupt, "manifest.json names a config outside the archive: \(entry.Config)")
            }
            let configBytes = try FileSystem.read(directory + "/" + configPath)
            var config = try CanonicalJSON.decode(ImageConfig.self, from: Data(configBytes))
            var layers: [Descriptor] = []
            var diffIDs: [Digest] = []
            for layerPath in entry.Layers {
                guard let relative = SafeExtractor.components(of: layerPath)?.joined(separator: "/") else {
                    throw StoreError(.corrupt, "manifest.json names a layer outside the archive: \(layerPath)")
                }
                let (descriptor, info) = try ingestLayer(from: try BlobSource(path: directory + "/" + relative))
                layers.append(descriptor)
                diffIDs.append(info.diffID)
            }
            guard diffIDs == config.rootfs.diffIDs else {
                throw StoreError(.digestMismatch, "layers of \(entry.Config) do not match its rootfs.diff_ids")
            }
            config.rootfs = RootFS(diffIDs: diffIDs)
            var tags: [ImageReference] = []
            for text in entry.RepoTags ?? [] {
                do {
                    tags.append(try ImageReference(parsing: text))
                } catch {
                    throw StoreError(.invalidReference, error.description)
                }
            }
            // The config is kept byte for byte, so the image ID stays docker's.
            let configDigest = try putBlob(configBytes)
            let manifest = Manifest(
                config: Descriptor(mediaType: .ociConfig, digest: configDigest, size: Int64(configBytes.count)), layers: layers)
            let manifestDescriptor = try putJSON(manifest, mediaType: .ociManifest)
            for tag in tags { try self.tag(tag, manifestDescriptor) }
            loaded.append(StoredImage(reference: tags.first, descriptor: manifestDescriptor, manifestDescriptor: manifestDescriptor, manifest: manifest, config: config))
        }
        return loaded
    }
}
