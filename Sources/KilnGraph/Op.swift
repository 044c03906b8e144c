import KilnOCI

/// One build step of the graph. The solver knows how to run each kind; none knows about Dockerfiles.
public enum Op: Sendable, Hashable, Codable {
    /// A base image, pulled or found in the store (`scratch` is an empty filesystem, not an image op).
    case image(ImageSource)
    /// Files from a local build context.
    case context(ContextSource)
    /// A process run on the first input's filesystem.
    case exec(ExecOp)
    /// File actions (copy, mkdir, mkfile, rm) on the first input's filesystem (or an empty one).
    case file(FileOp)
    /// A file downloaded over HTTP(S) (`ADD <url>`).
    case http(HTTPSource)
    /// A Git repository checkout (`ADD <git-url>`).
    case git(GitSource)
    /// The filesystems of all inputs laid over each other in order.
    case merge
}

/// A remote file; its filesystem holds the one downloaded file.
public struct HTTPSource: Sendable, Hashable, Codable {
    public var url: String
    /// The expected digest (`ADD --checksum`).
    public var checksum: String?
    /// The file name in the result (from the URL path when nil).
    public var filename: String?

    public init(url: String, checksum: String? = nil, filename: String? = nil) {
        self.url = url
        self.checksum = checksum
        self.filename = filename
    }
}

/// A Git checkout; its filesystem holds the working tree.
public struct GitSource: Sendable, Hashable, Codable {
    public var remote: String
    /// Branch, tag or commit (`#ref`), empty for the default branch.
    public var reference: String
    /// A sub-directory to keep (`#ref:dir`).
    public var subdirectory: String
    public var keepGitDirectory: Bool
    public var checksum: String?

    public init(remote: String, reference: String = "", subdirectory: String = "", keepGitDirectory: Bool = false, checksum: String? = nil) {
        self.remote = remote
        self.reference = reference
        self.subdirectory = subdirectory
        self.keepGitDirectory = keepGitDirectory
        self.checksum = checksum
    }
}

/// A base image reference to resolve.
public struct ImageSource: Sendable, Hashable, Codable {
    /// The image reference as written after expansion (`gcc:12`, `docker.io/library/busybox@sha256:…`).
    public var reference: String
    /// The platform to select from a multi-platform image.
    public var platform: Platform

    public init(reference: String, platform: Platform) {
        self.reference = reference
        self.platform = platform
    }
}

/// A local directory sent by the client (the build context, or a named context).
public struct ContextSource: Sendable, Hashable, Codable {
    /// The context name (`context` for the main one).
    public var name: String
    /// Patterns of files to leave out (`.dockerignore`).
    public var excludePatterns: [String]
    /// Paths the build actually reads, when known; narrows what is hashed.
    public var followPaths: [String]

    public init(name: String, excludePatterns: [String] = [], followPaths: [String] = []) {
        self.name = name
        self.excludePatterns = excludePatterns
        self.followPaths = followPaths
    }
}
