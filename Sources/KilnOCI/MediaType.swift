/// A media type of the OCI image and distribution specs or their Docker v2 equivalents.
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/media-types.md and
/// https://github.com/distribution/distribution/blob/main/docs/content/spec/manifest-v2-2.md
public struct MediaType: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static let ociManifest: MediaType = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex: MediaType = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig: MediaType = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer: MediaType = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip: MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd: MediaType = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributable: MediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip: MediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd: MediaType = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    public static let ociEmpty: MediaType = "application/vnd.oci.empty.v1+json"

    public static let dockerManifest: MediaType = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList: MediaType = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig: MediaType = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip: MediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer: MediaType = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerForeignLayerGzip: MediaType = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// An image index or Docker manifest list.
    public var isIndex: Bool { self == .ociIndex || self == .dockerManifestList }

    /// A single-platform image manifest.
    public var isManifest: Bool { self == .ociManifest || self == .dockerManifest }

    /// An image configuration.
    public var isConfig: Bool { self == .ociConfig || self == .dockerConfig }

    /// A filesystem layer.
    public var isLayer: Bool {
        rawValue.hasPrefix("application/vnd.oci.image.layer.") || rawValue.hasPrefix("application/vnd.docker.image.rootfs.")
    }

    /// Whether the image uses Docker's media types rather than OCI's.
    public var isDocker: Bool { rawValue.hasPrefix("application/vnd.docker.") }

    /// How a layer of this type is compressed.
    public var compression: Compression {
        if rawValue.hasSuffix("+gzip") || rawValue.hasSuffix(".tar.gzip") { return .gzip }
        if rawValue.hasSuffix("+zstd") { return .zstd }
        return .none
    }

    /// Layer compression.
    public enum Compression: String, Sendable, Hashable, CaseIterable {
        case none, gzip, zstd
    }
}
