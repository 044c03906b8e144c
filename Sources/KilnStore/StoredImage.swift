import KilnOCI

/// An image found in the store: how it was named, its manifest and its configuration.
public struct StoredImage: Sendable {
    /// The tag it was found under, if any.
    public var reference: ImageReference?
    /// The descriptor in `index.json` (a manifest, or an index for multi-platform images).
    public var descriptor: Descriptor
    /// The descriptor of the platform manifest.
    public var manifestDescriptor: Descriptor
    public var manifest: Manifest
    public var config: ImageConfig
    /// The config digest: docker's image ID.
    public var id: Digest { manifest.config.digest }
}

/// What the store remembers about a layer blob: its uncompressed digest and size.
public struct LayerInfo: Sendable, Hashable, Codable {
    public var diffID: Digest
    public var uncompressedSize: Int64

    public init(diffID: Digest, uncompressedSize: Int64) {
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
    }
}
