/// The part of the OCI runtime specification (`config.json` of a bundle) that kiln writes for crun and runc.
///
/// Source: https://github.com/opencontainers/runtime-spec/blob/main/config.md and config-linux.md
public struct RuntimeSpec: Sendable, Hashable, Codable {
    public var ociVersion: String
    public var process: Process
    public var root: Root
    public var hostname: String?
    public var mounts: [Mount]
    public var linux: Linux

    public init(process: Process, root: Root, hostname: String?, mounts: [Mount], linux: Linux) {
        self.ociVersion = "1.0.2"
        self.process = process
        self.root = root
        self.hostname = hostname
        self.mounts = mounts
        self.linux = linux
    }

    /// The container's process.
    public struct Process: Sendable, Hashable, Codable {
        public var terminal: Bool
        public var user: User
        public var args: [String]
        public var env: [String]
        public var cwd: String
        public var capabilities: Capabilities
        public var rlimits: [Rlimit]?
        public var noNewPrivileges: Bool

        public init(
            user: User, args: [String], env: [String], cwd: String, capabilities: Capabilities,
            rlimits: [Rlimit]? = nil, noNewPrivileges: Bool = false
        ) {
            self.terminal = false
            self.user = user
            self.args = args
            self.env = env
            self.cwd = cwd
            self.capabilities = capabilities
            self.rlimits = rlimits
            self.noNewPrivileges = noNewPrivileges
        }
    }

    public struct User: Sendable, Hashable, Codable {
        public var uid: UInt32
        public var gid: UInt32
        public var additionalGids: [UInt32]?
        public var umask: UInt32?

        public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32]? = nil, umask: UInt32? = nil) {
            self.uid = uid
            self.gid = gid
            self.additionalGids = additionalGids
            self.umask = umask
        }
    }

    /// Capability sets by name (`CAP_CHOWN`, …).
    public struct Capabilities: Sendable, Hashable, Codable {
        public var bounding: [String]
        public var effective: [String]
        public var permitted: [String]

        public init(_ names: [String]) {
            bounding = names
            effective = names
            permitted = names
        }
    }

    public struct Rlimit: Sendable, Hashable, Codable {
        public var type: String
        public var hard: UInt64
        public var soft: UInt64

        public init(type: String, soft: UInt64, hard: UInt64) {
            self.type = type
            self.soft = soft
            self.hard = hard
        }
    }

    public struct Root: Sendable, Hashable, Codable {
        public var path: String
        public var readonly: Bool

        public init(path: String, readonly: Bool = false) {
            self.path = path
            self.readonly = readonly
        }
    }

    public struct Mount: Sendable, Hashable, Codable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]?

        public init(destination: String, type: String?, source: String?, options: [String]? = nil) {
            self.destination = destination
            self.type = type
            self.source = source
            self.options = options
        }
    }

    public struct Linux: Sendable, Hashable, Codable {
        public var namespaces: [Namespace]
        public var maskedPaths: [String]
        public var readonlyPaths: [String]
        public var cgroupsPath: String?
        public var resources: Resources?

        public init(
            namespaces: [Namespace], maskedPaths: [String], readonlyPaths: [String], cgroupsPath: String? = nil,
            resources: Resources? = nil
        ) {
            self.namespaces = namespaces
            self.maskedPaths = maskedPaths
            self.readonlyPaths = readonlyPaths
            self.cgroupsPath = cgroupsPath
            self.resources = resources
        }
    }

    public struct Namespace: Sendable, Hashable, Codable {
        public var type: String
        public var path: String?

        public init(type: String, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    public struct Resources: Sendable, Hashable, Codable {
        public var devices: [DeviceRule]

        public init(devices: [DeviceRule]) {
            self.devices = devices
        }
    }

    /// A device cgroup rule: `allow` or deny `access` (`rwm`) to devices of a `type`/`major`/`minor`.
    public struct DeviceRule: Sendable, Hashable, Codable {
        public var allow: Bool
        public var type: String?
        public var major: Int64?
        public var minor: Int64?
        public var access: String?

        public init(allow: Bool, type: String? = nil, major: Int64? = nil, minor: Int64? = nil, access: String? = nil) {
            self.allow = allow
            self.type = type
            self.major = major
            self.minor = minor
            self.access = access
        }
    }
}
