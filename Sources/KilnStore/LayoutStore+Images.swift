import Foundation
import KilnArchive
import KilnOCI

extension LayoutStore {
    /// Finds an image by reference (`busybox`, `gcc:12`), image ID or manifest digest (full or an unambiguous
    /// hex prefix of at least 4 characters), picking `platform` from a multi-platform index.
    public func image(_ text: String, platform: Platform = .host) throws -> StoredImage {
        let tagged = try taggedImages()
        if let reference = try? ImageReference(parsing: text),
            let match = tagged.first(where: { $0.reference == reference })
        {
            return try image(descriptor: match.descriptor, reference: match.reference, platform: platform)
        }
        let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        guard hex.count >= 4, hex.allSatisfy({ $0.isHexDigit }) else {
            throw StoreError(.notFound, "no such image: \(text)")
        }
        var matches: [StoredImage] = []
        let untagged = try untaggedImages().map { (reference: ImageReference?.none, descriptor: $0) }
        let all: [(reference: ImageReference?, descriptor: Descriptor)] = tagged.map { ($0.reference, $0.descriptor) } + untagged
        for entry in all {
            let found = try image(descriptor: entry.descriptor, reference: entry.reference, platform: platform)
            if found.id.encoded.hasPrefix(hex) || entry.descriptor.digest.encoded.hasPrefix(hex) {
                if !matches.contains(where: { $0.descriptor.digest == found.descriptor.digest }) { matches.append(found) }
            }
        }
        guard let first = matches.first else { throw StoreError(.notFound, "no such image: \(text)") }
        guard matches.count == 1 else { throw StoreError(.notFound, "image ID prefix \(text) is ambiguous") }
        return first
    }

    /// Reads the image behind `descriptor` (resolving an index to `platform`).
    public func image(descriptor: Descriptor, reference: ImageReference? = nil, platform: Platform = .host) throws -> StoredImage {
        var manifestDescriptor = descriptor
        if descriptor.mediaType.isIndex {
            let index = try decode(Index.self, descriptor.digest, what: "index")
            guard let chosen = PlatformSelection.best(in: index.manifests, for: platform) else {
                let available = index.manifests.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw StoreError(.notFound, "no \(platform) image in index \(descriptor.digest) (has \(available))")
            }
            manifestDescriptor = chosen
        }
        let manifest = try decode(Manifest.self, manifestDescriptor.digest, what: "manifest")
        let config = try decode(ImageConfig.self, manifest.config.digest, what: "config")
        return StoredImage(reference: reference, descriptor: descriptor, manifestDescriptor: manifestDescriptor, manifest: manifest, config: config)
    }

    func decode<T: Decodable>(_ type: T.Type, _ digest: Digest, what: String) throws -> T {
        let bytes = try readBlob(digest)
        do {
            return try CanonicalJSON.decode(type, from: Data(bytes))
        } catch {
            throw StoreError(.corrupt, "\(what) \(digest) cannot be parsed", cause: error)
        }
    }

    /// Stores a manifest for `config` and `layers`, tags it, and returns the stored image.
    @discardableResult
    public func commitImage(config: ImageConfig, layers: [Descriptor], tags: [ImageReference], annotations: [String: String]? = nil) throws -> StoredImage {
        let configDescriptor = try putJSON(config, mediaType: .ociConfig)
        let manifest = Manifest(config: configDescriptor, layers: layers, annotations: annotations)
        let manifestDescriptor = try putJSON(manifest, mediaType: .ociManifest)
        for tag in tags { try self.tag(tag, manifestDescriptor) }
        return StoredImage(reference: tags.first, descriptor: manifestDescriptor, manifestDescriptor: manifestDescriptor, manifest: manifest, config: config)
    }

    /// Stores a multi-platform index of `images` (each already committed), tags it (or keeps it untagged, so
    /// that it is not collected), and returns it resolved to `platform` (default: the first image's).
    @discardableResult
    public func commitIndex(_ images: [StoredImage], tags: [ImageReference], platform: Platform? = nil) throws -> StoredImage {
        let manifests = images.map { image in
            var descriptor = image.manifestDescriptor
            descriptor.platform = image.config.platform
            descriptor.annotations = nil
            return descriptor
        }
        let descriptor = try putJSON(Index(manifests: manifests), mediaType: .ociIndex)
        if tags.isEmpty { try addUntagged(descriptor) }
        for tag in tags { try self.tag(tag, descriptor) }
        return try image(descriptor: descriptor, reference: tags.first, platform: platform ?? images.first?.config.platform ?? .host)
    }

    // MARK: Layers

    var layerInfoDirectory: String { layout.root + "/meta/layers" }

    /// The diffID and uncompressed size of a layer blob if they are known already (without reading the blob).
    public func knownLayerInfo(_ layer: Digest) -> LayerInfo? {
        let path = layerInfoDirectory + "/" + layer.encoded + ".json"
        guard let bytes = try? FileSystem.read(path) else { return nil }
        return try? CanonicalJSON.decode(LayerInfo.self, from: Data(bytes))
    }

    /// The diffID and uncompressed size of a layer blob, computed once and remembered.
    public func layerInfo(_ layer: Digest) throws -> LayerInfo {
        if let info = knownLayerInfo(layer) { return info }
        var source = DigestingSource(DecompressingSource(try openBlob(layer)))
        while try !source.read(upTo: 1 << 20).isEmpty {}
        let info = LayerInfo(diffID: source.digest, uncompressedSize: source.count)
        try remember(info, for: layer)
        return info
    }

    func remember(_ info: LayerInfo, for layer: Digest) throws {
        try FileSystem.createDirectory(layerInfoDirectory)
        try FileSystem.writeAtomically(Array(try CanonicalJSON.encode(info)), to: layerInfoDirectory + "/" + layer.encoded + ".json")
    }

    /// Stores a layer read from `source` (a tar, compressed or not), compressing it with `compression`.
    /// The tar is read once: its diffID, the compressed digest and both sizes come out of the same pass.
    public func ingestLayer<Source: ByteSource>(
        from source: Source, compression: CompressionFormat = .gzip, level: Int32? = nil
    ) throws -> (descriptor: Descriptor, info: LayerInfo) {
        var input = DigestingSource(DecompressingSource(source))
        return try storeLayer(compression: compression, level: level) { sink in
            while case let chunk = try input.read(upTo: 1 << 20), !chunk.isEmpty { try sink.write(chunk) }
            return (input.digest, input.count)
        }
    }

    /// Writes a layer blob through a compressor; `produce` writes the uncompressed tar and returns its digest and
    /// size. The layer's diffID and size are remembered; a failure leaves nothing in the store.
    func storeLayer(
        compression: CompressionFormat, level: Int32?, _ produce: (CompressingSink<BlobWriter>) throws -> (Digest, Int64)
    ) throws -> (descriptor: Descriptor, info: LayerInfo) {
        let writer = try blobWriter()
        do {
            let sink = try CompressingSink(writer, format: compression, level: level)
            let (diffID, size) = try produce(sink)
            try sink.finish()
            let (digest, compressedSize) = try writer.commit()
            let info = LayerInfo(diffID: diffID, uncompressedSize: size)
            try remember(info, for: digest)
            return (Descriptor(mediaType: compression.layerMediaType, digest: digest, size: compressedSize), info)
        } catch {
            writer.abandon()
            throw error
        }
    }
}

/// Chooses a manifest from an index for a platform, with containerd's variant fallbacks
/// (`arm/v7` also runs `arm/v6` and `arm/v5`; `amd64` matches any `amd64` variant when none is asked).
public enum PlatformSelection {
    public static func best(in manifests: [Descriptor], for wanted: Platform) -> Descriptor? {
        let candidates = manifests.filter { $0.platform != nil && $0.platform!.os == wanted.os && $0.platform!.architecture == wanted.architecture }
        if let exact = candidates.first(where: { $0.platform!.variant == wanted.variant }) { return exact }
        let order = fallbackVariants(for: wanted)
        for variant in order {
            if let match = candidates.first(where: { ($0.platform!.variant ?? "") == variant }) { return match }
        }
        return wanted.variant == nil ? candidates.first : nil
    }

    static func fallbackVariants(for platform: Platform) -> [String] {
        guard platform.architecture == "arm", let variant = platform.variant, let number = Int(variant.dropFirst()) else {
            return [""]
        }
        return stride(from: number, through: 5, by: -1).map { "v\($0)" } + [""]
    }
}
