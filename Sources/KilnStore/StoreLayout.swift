import Foundation
import KilnOCI

/// Where things live under a store root: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`)
/// plus kiln's own `ingest/` (blobs being written), `snapshots/` (unpacked layers), `cache/` (build cache
/// records, the stat cache, earlier builds for miss explanations) and `locks/`.
public struct StoreLayout: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    /// `$KILN_ROOT`, else `/var/lib/kiln` for root, else `$XDG_DATA_HOME/kiln` (default `~/.local/share/kiln`).
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let root = environment["KILN_ROOT"], !root.isEmpty { return root }
        if getuid() == 0 { return "/var/lib/kiln" }
        let data = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return data + "/kiln"
    }

    public var layoutFile: String { root + "/oci-layout" }
    public var indexFile: String { root + "/index.json" }
    public var blobsDirectory: String { root + "/blobs/sha256" }
    public var ingestDirectory: String { root + "/ingest" }
    public var snapshotsDirectory: String { root + "/snapshots" }
    public var locksDirectory: String { root + "/locks" }
    public var indexLock: String { locksDirectory + "/index.lock" }
    public var cacheRecordsDirectory: String { root + "/cache/records" }
    public var statCacheFile: String { root + "/cache/stat-cache" }
    public var buildHistoryDirectory: String { root + "/cache/builds" }

    public func blobPath(_ digest: Digest) -> String { root + "/blobs/\(digest.algorithm)/\(digest.encoded)" }
    public func snapshotPath(_ diffID: Digest) -> String { snapshotsDirectory + "/\(diffID.encoded)" }
}
