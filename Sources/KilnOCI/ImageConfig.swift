/// The image configuration: what `docker inspect` shows, in OCI image-spec form with docker's extensions
/// (Healthcheck, OnBuild, Shell).
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/config.go and
/// https://github.com/moby/docker-image-spec/blob/main/specs-go/v1/image.go
public struct ImageConfig: Sendable, Hashable, Codable {
    public var created: String?
    public var author: String?
    public var architecture: String
    public var os: String
    public var variant: String?
    public var config: ContainerConfig
    public var rootfs: RootFS
    public var history: [History]

    enum CodingKeys: String, CodingKey {
        case created, author, architecture, os, variant, config, rootfs, history
    }

    public init(
        platform: Platform, config: ContainerConfig = ContainerConfig(), rootfs: RootFS = RootFS(),
        history: [History] = [], created: String? = nil, author: String? = nil
    ) {
        self.architecture = platform.architecture
        self.os = platform.os
        self.variant = platform.variant
        self.config = config
        self.rootfs = rootfs
        self.history = history
        self.created = created
        self.author = author
    }

    public var platform: Platform { Platform(os: os, architecture: architecture, variant: variant) }
}

/// The runtime defaults of an image (`config` in the image config JSON).
public struct ContainerConfig: Sendable, Hashable, Codable {
    public var user: String?
    public var exposedPorts: [String: EmptyObject]?
    public var env: [String]?
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String: EmptyObject]?
    public var workingDir: String?
    public var labels: [String: String]?
    public var stopSignal: String?
    public var healthcheck: Healthcheck?
    public var onBuild: [String]?
    public var shell: [String]?
    public var argsEscaped: Bool?

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case exposedPorts = "ExposedPorts"
        case env = "Env"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case volumes = "Volumes"
        case workingDir = "WorkingDir"
        case labels = "Labels"
        case stopSignal = "StopSignal"
        case healthcheck = "Healthcheck"
        case onBuild = "OnBuild"
        case shell = "Shell"
        case argsEscaped = "ArgsEscaped"
    }

    public init() {}
}

/// `{}`: the value type of docker's set-like maps (ExposedPorts, Volumes).
public struct EmptyObject: Sendable, Hashable, Codable {
    public init() {}
}

/// Docker's health check configuration; durations in nanoseconds.
public struct Healthcheck: Sendable, Hashable, Codable {
    /// `["NONE"]`, `["CMD", args…]` or `["CMD-SHELL", command]`.
    public var test: [String]
    public var interval: Int64?
    public var timeout: Int64?
    public var startPeriod: Int64?
    public var startInterval: Int64?
    public var retries: Int?

    enum CodingKeys: String, CodingKey {
        case test = "Test"
        case interval = "Interval"
        case timeout = "Timeout"
        case startPeriod = "StartPeriod"
        case startInterval = "StartInterval"
        case retries = "Retries"
    }

    public init(test: [String], interval: Int64? = nil, timeout: Int64? = nil, startPeriod: Int64? = nil,
                startInterval: Int64? = nil, retries: Int? = nil) {
        self.test = test
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.startInterval = startInterval
        self.retries = retries
    }
}

/// The layer list of an image config.
public struct RootFS: Sendable, Hashable, Codable {
    public var type: String
    public var diffIDs: [Digest]

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }

    public init(diffIDs: [Digest] = []) {
        self.type = "layers"
        self.diffIDs = diffIDs
    }
}

/// One step of an image's history.
public struct History: Sendable, Hashable, Codable {
    public var created: String?
    public var createdBy: String?
    public var author: String?
    public var comment: String?
    public var emptyLayer: Bool?

    enum CodingKeys: String, CodingKey {
        case created
        case createdBy = "created_by"
        case author
        case comment
        case emptyLayer = "empty_layer"
    }

    public init(createdBy: String? = nil, comment: String? = nil, emptyLayer: Bool? = nil, created: String? = nil, author: String? = nil) {
        self.createdBy = createdBy
        self.comment = comment
        self.emptyLayer = emptyLayer
        self.created = created
        self.author = author
    }
}
