/// A reference to content: its media type, digest and size, with optional platform and annotations.
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/descriptor.go
public struct Descriptor: Sendable, Hashable, Codable {
    public var mediaType: MediaType
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var data: String?
    public var platform: Platform?
    public var artifactType: MediaType?

    public init(
        mediaType: MediaType, digest: Digest, size: Int64, urls: [String]? = nil, annotations: [String: String]? = nil,
        platform: Platform? = nil, artifactType: MediaType? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.platform = platform
        self.artifactType = artifactType
    }

    /// The annotation OCI layouts use for tags.
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
}
