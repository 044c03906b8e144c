/// File actions applied in order to the op's base filesystem (input 0), or to an empty one when `base` is nil.
public struct FileOp: Sendable, Hashable, Codable {
    /// The input holding the base filesystem, or nil for an empty base (`COPY --link`, `scratch`).
    public var base: Int?
    public var actions: [FileAction]

    public init(base: Int?, actions: [FileAction]) {
        self.base = base
        self.actions = actions
    }
}

/// One file-system change.
public enum FileAction: Sendable, Hashable, Codable {
    case copy(CopyAction)
    case makeDirectory(MakeDirectoryAction)
    case makeFile(MakeFileAction)
    case remove(path: String, allowNotFound: Bool)
}

/// The owner of created files: ids, or names resolved in the destination's `/etc/passwd` and `/etc/group`.
public struct Ownership: Sendable, Hashable, Codable {
    public var user: String
    public var group: String?

    public init(user: String, group: String? = nil) {
        self.user = user
        self.group = group
    }
}

/// Copies `sources` (glob patterns, relative to the input's root) from input `input` to `destination`,
/// with docker's COPY/ADD rules.
public struct CopyAction: Sendable, Hashable, Codable {
    public var input: Int
    public var sources: [String]
    public var destination: String
    public var owner: Ownership?
    /// Octal (`0755`) or symbolic (`u+x`) mode.
    public var mode: String?
    /// Unpack local tar archives (ADD).
    public var extractArchives: Bool
    /// Keep the source's parent directories (`--parents`).
    public var keepParents: Bool
    public var excludePatterns: [String]
    /// Create missing parents of the destination.
    public var createDestinationPath: Bool
    /// Follow a symlink given as the source itself.
    public var followSymlinks: Bool
    /// Whether a directory source copies its contents (docker) rather than itself.
    public var copyDirectoryContentsOnly: Bool
    /// Whether it is fine for a wildcard to match nothing.
    public var allowEmptyWildcard: Bool
    /// The expected digest of a remote source (`ADD --checksum`).
    public var checksum: String?

    public init(
        input: Int, sources: [String], destination: String, owner: Ownership? = nil, mode: String? = nil,
        extractArchives: Bool = false, keepParents: Bool = false, excludePatterns: [String] = [],
        createDestinationPath: Bool = true, followSymlinks: Bool = true, copyDirectoryContentsOnly: Bool = true,
        allowEmptyWildcard: Bool = false, checksum: String? = nil
    ) {
        self.input = input
        self.sources = sources
        self.destination = destination
        self.owner = owner
        self.mode = mode
        self.extractArchives = extractArchives
        self.keepParents = keepParents
        self.excludePatterns = excludePatterns
        self.createDestinationPath = createDestinationPath
        self.followSymlinks = followSymlinks
        self.copyDirectoryContentsOnly = copyDirectoryContentsOnly
        self.allowEmptyWildcard = allowEmptyWildcard
        self.checksum = checksum
    }
}

public struct MakeDirectoryAction: Sendable, Hashable, Codable {
    public var path: String
    public var mode: UInt32
    public var makeParents: Bool
    public var owner: Ownership?

    public init(path: String, mode: UInt32 = 0o755, makeParents: Bool = true, owner: Ownership? = nil) {
        self.path = path
        self.mode = mode
        self.makeParents = makeParents
        self.owner = owner
    }
}

public struct MakeFileAction: Sendable, Hashable, Codable {
    public var path: String
    public var contents: String
    public var mode: UInt32
    public var owner: Ownership?

    public init(path: String, contents: String, mode: UInt32 = 0o644, owner: Ownership? = nil) {
        self.path = path
        self.contents = contents
        self.mode = mode
        self.owner = owner
    }
}
