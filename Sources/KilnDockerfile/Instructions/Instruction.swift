import KilnGraph

/// A `key=value` pair of ENV or LABEL.
public struct KeyValue: Sendable, Equatable {
    public var key: String
    public var value: String
    /// Written in the legacy `ENV key value` form.
    public var isLegacyForm: Bool
}

/// One name of an ARG instruction, with its optional default.
public struct ArgDefinition: Sendable, Equatable {
    public var name: String
    public var defaultValue: String?
}

/// A command line of RUN, CMD, ENTRYPOINT or HEALTHCHECK.
public struct CommandLine: Sendable, Equatable {
    /// The exec-form words, or one string for the shell form.
    public var arguments: [String]
    /// True for the shell form: the stage's SHELL is put in front when it runs.
    public var prependsShell: Bool
    /// Heredoc files of the command (`RUN <<EOF`).
    public var files: [Heredoc]
}

/// The sources and destination of COPY or ADD.
public struct CopySources: Sendable, Equatable {
    public var sourcePaths: [String]
    /// Inline sources written as heredocs, `<<-` tabs already removed.
    public var inlineSources: [InlineSource]
    public var destination: String

    public struct InlineSource: Sendable, Equatable {
        public var path: String
        public var data: String
        public var expand: Bool
    }
}

public struct CopyInstruction: Sendable, Equatable {
    public var sources: CopySources
    public var from: String
    public var chown: String
    public var chmod: String
    public var link: Bool
    public var parents: Bool
    public var excludes: [String]
}

public struct AddInstruction: Sendable, Equatable {
    public var sources: CopySources
    public var chown: String
    public var chmod: String
    public var link: Bool
    public var keepGitDirectory: Bool?
    public var checksum: String
    public var unpack: Bool?
    public var excludes: [String]
}

public struct RunInstruction: Sendable, Equatable {
    public var command: CommandLine
    public var mounts: [MountSpec]
    public var network: String
    public var security: String
    public var devices: [String]
    /// The raw `--mount` values, expanded later with the stage's variables.
    public var rawMounts: [String]
}

public struct HealthcheckInstruction: Sendable, Equatable {
    /// `["NONE"]`, `["CMD", …]` or `["CMD-SHELL", command]`.
    public var test: [String]
    public var interval: Int64
    public var timeout: Int64
    public var startPeriod: Int64
    public var startInterval: Int64
    public var retries: Int
}

/// A typed Dockerfile instruction (BuildKit's `instructions` package).
public enum InstructionKind: Sendable, Equatable {
    case from(base: String, stageName: String?, platform: String)
    case run(RunInstruction)
    case cmd(CommandLine)
    case entrypoint(CommandLine)
    case copy(CopyInstruction)
    case add(AddInstruction)
    case env([KeyValue])
    case label([KeyValue])
    case arg([ArgDefinition])
    case workdir(String)
    case user(String)
    case expose([String])
    case volume([String])
    case stopSignal(String)
    case healthcheck(HealthcheckInstruction)
    case shell([String])
    case onbuild(String)
    case maintainer(String)
}

/// A parsed instruction with its source.
public struct Instruction: Sendable, Equatable {
    public var kind: InstructionKind
    /// The keyword as written (`RUN`, `run`).
    public var keyword: String
    /// The instruction text with continuations joined, trimmed (used in history `created_by`).
    public var code: String
    public var range: SourceRange
    public var comments: [String]
    /// The syntax node it came from.
    public var node: Node
}
