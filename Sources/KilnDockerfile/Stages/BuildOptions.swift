import KilnOCI

/// What a build is asked to do, as given on the command line.
public struct BuildOptions: Sendable {
    /// The stage to build (`--target`); the last stage when nil.
    public var target: String?
    /// `--build-arg` values.
    public var buildArgs: [String: String]
    /// The platform of the image being built.
    public var targetPlatform: Platform
    /// The platform of the machine building it.
    public var buildPlatform: Platform
    /// Whether step names start with their stage's platform (`[linux/arm64 build 2/4]`), as buildx names them
    /// when several platforms are built at once.
    public var namesPlatformInSteps = false

    public init(
        target: String? = nil, buildArgs: [String: String] = [:], targetPlatform: Platform = .host,
        buildPlatform: Platform = .host
    ) {
        self.target = target
        self.buildArgs = buildArgs
        self.targetPlatform = targetPlatform
        self.buildPlatform = buildPlatform
    }

    /// The predefined platform args (`TARGETPLATFORM`, `BUILDARCH`, …) available to `FROM` and to `ARG` declarations.
    public var platformArgs: VariableSet {
        var args = VariableSet()
        args["BUILDPLATFORM"] = buildPlatform.description
        args["BUILDOS"] = buildPlatform.os
        args["BUILDARCH"] = buildPlatform.architecture
        args["BUILDVARIANT"] = buildPlatform.variant ?? ""
        args["TARGETPLATFORM"] = targetPlatform.description
        args["TARGETOS"] = targetPlatform.os
        args["TARGETARCH"] = targetPlatform.architecture
        args["TARGETVARIANT"] = targetPlatform.variant ?? ""
        return args
    }
}
