/// What to run in a container: the process, its identity and environment, and how it is isolated.
public struct ProcessRequest: Sendable, Hashable {
    public var arguments: [String]
    /// `NAME=value` pairs; a `PATH` is added when missing.
    public var environment: [String]
    /// The working directory inside the container; created (owned by root, 0755) when missing.
    public var workingDirectory: String
    /// The `USER` string as written: empty, `name`, `uid`, `name:group`, `uid:gid`.
    public var user: String
    public var hostname: String
    public var network: NetworkAccess
    public var security: SecurityMode
    /// Extra `host:ip` entries for `/etc/hosts` (`--add-host`).
    public var extraHosts: [HostEntry] = []

    /// The `PATH` docker and BuildKit give a process whose environment has none.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// The hostname of build containers.
    public static let defaultHostname = "kiln"

    public init(
        arguments: [String], environment: [String] = [], workingDirectory: String = "/", user: String = "",
        hostname: String = ProcessRequest.defaultHostname, network: NetworkAccess = .sandbox, security: SecurityMode = .sandbox
    ) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.user = user
        self.hostname = hostname
        self.network = network
        self.security = security
    }

    /// A line of `/etc/hosts`.
    public struct HostEntry: Sendable, Hashable {
        public var name: String
        public var address: String

        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }
}

/// The network a process sees.
public enum NetworkAccess: String, Sendable, Hashable, CaseIterable {
    /// Its own network namespace with outbound access through slirp4netns when installed, else only loopback
    /// (`RUN --network=default`).
    case sandbox
    /// Its own network namespace with only loopback (`RUN --network=none`).
    case none
    /// The host's network namespace (`RUN --network=host`, needs the `network.host` entitlement).
    case host
}

/// How much privilege a process gets.
public enum SecurityMode: String, Sendable, Hashable, CaseIterable {
    /// Docker's default capability set, masked `/proc` paths, read-only `/sys`.
    case sandbox
    /// All capabilities, nothing masked, devices allowed (`RUN --security=insecure`, needs `security.insecure`).
    case insecure
}
