/// A single-platform image manifest: the config and the layers. Decodes OCI and Docker schema 2 manifests.
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/manifest.go
public struct Manifest: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: MediaType?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(
        mediaType: MediaType = .ociManifest, config: Descriptor, layers: [Descriptor],
        annotations: [String: String]? = nil, subject: Descriptor? = nil
    ) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
        self.subject = subject
    }
}

/// A list of manifests, one per platform (OCI image index or Docker manifest list).
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/index.go
public struct Index: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var mediaType: MediaType?
    public var artifactType: MediaType?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(mediaType: MediaType = .ociIndex, manifests: [Descriptor], annotations: [String: String]? = nil) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }
}
