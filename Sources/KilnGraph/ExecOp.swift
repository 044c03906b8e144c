/// A process to run in a container whose root filesystem is the op's first input.
public struct ExecOp: Sendable, Hashable, Codable {
    /// The full argument vector (the shell is already prepended for shell-form commands).
    public var arguments: [String]
    /// `NAME=value` environment entries, in order.
    public var environment: [String]
    /// The working directory (absolute).
    public var workingDirectory: String
    /// `user`, `uid`, `user:group` or `uid:gid`, resolved in the container.
    public var user: String
    /// Extra mounts besides the root filesystem.
    public var mounts: [Mount]
    /// `default`, `none` or `host`.
    public var network: NetworkMode
    /// `sandbox` or `insecure`.
    public var security: SecurityMode
    /// Files created for heredocs (`RUN <<EOF`), written before the process starts.
    public var inlineFiles: [InlineFile]

    public init(
        arguments: [String], environment: [String], workingDirectory: String, user: String = "",
        mounts: [Mount] = [], network: NetworkMode = .default, security: SecurityMode = .sandbox,
        inlineFiles: [InlineFile] = []
    ) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.mounts = mounts
        self.network = network
        self.security = security
        self.inlineFiles = inlineFiles
    }
}

public enum NetworkMode: String, Sendable, Hashable, Codable, CaseIterable {
    case `default`, none, host
}

public enum SecurityMode: String, Sendable, Hashable, Codable, CaseIterable {
    case sandbox, insecure
}

/// A file made available to a process without becoming part of any layer.
public struct InlineFile: Sendable, Hashable, Codable {
    public var path: String
    public var contents: String
    public var mode: UInt32

    public init(path: String, contents: String, mode: UInt32 = 0o644) {
        self.path = path
        self.contents = contents
        self.mode = mode
    }
}

/// A mount of a `RUN --mount` flag.
public struct Mount: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case bind, cache, tmpfs, secret, ssh
    }

    public enum Sharing: String, Sendable, Hashable, Codable, CaseIterable {
        case shared, `private`, locked
    }

    public var kind: Kind
    /// Where the mount appears in the container.
    public var target: String
    /// For bind and cache mounts: the input (index into the op's inputs) whose filesystem is mounted.
    public var input: Int?
    /// The path inside the mounted input (bind/cache `source`).
    public var source: String
    public var readOnly: Bool
    /// Cache and secret id, ssh agent id.
    public var id: String
    public var sharing: Sharing
    public var sizeLimit: Int64?
    public var required: Bool
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// For secrets exposed as an environment variable instead of a file.
    public var environmentVariable: String?

    public init(
        kind: Kind, target: String, input: Int? = nil, source: String = "", readOnly: Bool = false, id: String = "",
        sharing: Sharing = .shared, sizeLimit: Int64? = nil, required: Bool = false, mode: UInt32? = nil,
        uid: UInt32? = nil, gid: UInt32? = nil, environmentVariable: String? = nil
    ) {
        self.kind = kind
        self.target = target
        self.input = input
        self.source = source
        self.readOnly = readOnly
        self.id = id
        self.sharing = sharing
        self.sizeLimit = sizeLimit
        self.required = required
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.environmentVariable = environmentVariable
    }
}
