import Foundation
import KilnArchive
import KilnOCI

/// What a build may use and how it runs, besides the graph itself.
public struct SolveOptions: Sendable {
    /// Host directories of named local contexts; `context` is the main build context.
    public var contexts: [String: String] = [:]
    /// Secret values by id (`--secret id=…,src=…|env=…`).
    public var secrets: [String: [UInt8]] = [:]
    /// SSH agent sockets by id (`--ssh default=$SSH_AUTH_SOCK`).
    public var sshAgents: [String: String] = [:]
    /// The network of RUN steps that ask for `default` (`kiln build --network`).
    public var defaultNetwork: String = "default"
    /// Entitlements granted with `--allow`: `network.host`, `security.insecure`.
    public var entitlements: Set<String> = []
    /// Pull base images even when the store has them (`--pull`).
    public var alwaysPull = false
    /// How many RUN steps may run at once (`--jobs`, default: the number of cores).
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Compression of new layers.
    public var compression: CompressionFormat = .gzip
    /// Compression level of new layers; nil is the format's default.
    public var compressionLevel: Int32?
    /// Clamp file times in new layers to this epoch (`SOURCE_DATE_EPOCH`).
    public var sourceDateEpoch: Int64?
    /// How steps use the build cache.
    public var cache = CacheOptions()

    public init() {}
}
