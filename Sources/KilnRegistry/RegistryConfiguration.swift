import Foundation
import KilnOCI

/// How kiln talks to registries: which hosts use plain HTTP, where credentials come from, how hard to retry.
public struct RegistryConfiguration: Sendable {
    /// Hosts (with port) reached over plain HTTP. Loopback hosts always are.
    public var insecureHosts: Set<String>
    /// Where credentials are read from.
    public var dockerConfig: DockerConfig
    /// Attempts per request on connection errors, 5xx and 429 (the first try included).
    public var maximumAttempts: Int
    /// The first back-off delay; it doubles on each retry.
    public var initialBackoff: Duration
    /// Blobs downloaded or uploaded at once.
    public var maximumConcurrentTransfers: Int
    /// Mirrors, blocked and insecure registries from the containers registries configuration.
    public var registries: RegistriesConf?
    /// Blobs at or above this size are uploaded in chunks (`PATCH` with `Content-Range`), smaller ones in one `PUT`.
    public var chunkedUploadThreshold: Int64 = 64 << 20
    /// The size of each uploaded chunk.
    public var uploadChunkSize: Int64 = 16 << 20

    public init(
        insecureHosts: Set<String> = [], dockerConfig: DockerConfig = DockerConfig(), maximumAttempts: Int = 5,
        initialBackoff: Duration = .milliseconds(200), maximumConcurrentTransfers: Int = 3
    ) {
        self.insecureHosts = insecureHosts
        self.dockerConfig = dockerConfig
        self.maximumAttempts = maximumAttempts
        self.initialBackoff = initialBackoff
        self.maximumConcurrentTransfers = maximumConcurrentTransfers
    }

    /// `https://registry-1.docker.io` for docker.io, `http://` for loopback and insecure hosts.
    public func baseURL(for domain: String) -> String {
        let host = domain == ImageReference.defaultDomain ? "registry-1.docker.io" : domain
        return (usesPlainHTTP(domain) ? "http://" : "https://") + host
    }

    func usesPlainHTTP(_ domain: String) -> Bool {
        if insecureHosts.contains(domain) || registries?.insecureHosts.contains(domain) == true { return true }
        let host = domain.hasPrefix("[") ? String(domain.prefix { $0 != "]" }.dropFirst()) : String(domain.split(separator: ":").first ?? "")
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }
}
