import KilnStore

/// A file system to mount into a build container (`RUN --mount`), with its sources already resolved to
/// host paths by the caller.
public struct MountRequest: Sendable {
    public enum Kind: Sendable {
        /// A host directory or file; a writable bind sees its own copy whose changes are discarded.
        case bind(source: String, readOnly: Bool)
        /// A persistent cache directory of the store.
        case cache(id: String, sharing: CacheMountStore.Sharing, initialisation: CacheMountStore.Initialisation, readOnly: Bool)
        /// A secret file, written to a private tmpfs and mounted read-only.
        case secret(contents: [UInt8], uid: UInt32, gid: UInt32, mode: UInt32)
        /// An empty tmpfs of at most `size` bytes (unlimited when nil).
        case tmpfs(size: UInt64?)
        /// The SSH agent socket at `socket`, reachable in the container as `target` through a forwarding
        /// socket owned by `uid`:`gid` with `mode`.
        case sshAgent(socket: String, uid: UInt32, gid: UInt32, mode: UInt32)
    }

    /// The absolute path inside the container.
    public var target: String
    public var kind: Kind

    public init(target: String, kind: Kind) {
        self.target = target
        self.kind = kind
    }
}
