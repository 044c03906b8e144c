import KilnGraph

/// A build stage: a `FROM` and the instructions up to the next `FROM`.
public struct Stage: Sendable, Equatable {
    /// 0-based position in the Dockerfile.
    public var index: Int
    /// The name after `AS`, lower-cased.
    public var name: String?
    /// The base as written (before expansion of global args).
    public var baseName: String
    /// The `--platform` value as written.
    public var platform: String
    /// The instructions after `FROM`.
    public var instructions: [Instruction]
    /// The `FROM` line.
    public var from: Instruction

    /// The name used in progress output: the stage name or `stage-N`.
    public var displayName: String { name ?? "stage-\(index)" }
}

/// A parsed Dockerfile: global ARGs and stages, ready to be resolved against build options.
public struct Dockerfile: Sendable {
    public var syntax: ParsedDockerfile
    /// The ARG instructions before the first FROM.
    public var globalArgs: [Instruction]
    public var stages: [Stage]
    /// The source text, for diagnostics.
    public var source: String

    /// Parses and types every instruction.
    ///
    /// - Throws: ``DockerfileDiagnostics`` holding every error found (parsing continues past a bad
    ///   instruction so that one run reports them all).
    public init(source: String) throws(DockerfileDiagnostics) {
        self.source = source
        do {
            syntax = try DockerfileParser.parse(source)
        } catch {
            throw DockerfileDiagnostics(errors: [error])
        }
        var errors: [DockerfileError] = []
        var globalArgs: [Instruction] = []
        var stages: [Stage] = []
        for node in syntax.instructions {
            let instruction: Instruction
            do {
                instruction = try InstructionParser.parse(node)
            } catch {
                errors.append(error)
                continue
            }
            switch instruction.kind {
            case .from(let base, let name, let platform):
                stages.append(
                    Stage(index: stages.count, name: name, baseName: base, platform: platform, instructions: [], from: instruction))
            case .arg where stages.isEmpty:
                globalArgs.append(instruction)
            default:
                if stages.isEmpty {
                    errors.append(
                        DockerfileError("no build stage in current context", range: instruction.range))
                } else {
                    stages[stages.count - 1].instructions.append(instruction)
                }
            }
        }
        if stages.isEmpty && errors.isEmpty {
            errors.append(DockerfileError("no build stage in current context", range: syntax.instructions.last?.range))
        }
        guard errors.isEmpty else { throw DockerfileDiagnostics(errors: errors) }
        self.globalArgs = globalArgs
        self.stages = stages
    }

    /// The stage called `name` (case-insensitive).
    public func stage(named name: String) -> Stage? {
        let lowered = name.lowercased()
        return stages.first { $0.name == lowered }
    }
}

/// One or more Dockerfile errors from a single run.
public struct DockerfileDiagnostics: Error, Sendable, CustomStringConvertible {
    public var errors: [DockerfileError]

    public init(errors: [DockerfileError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.message).joined(separator: "\n") }
}
