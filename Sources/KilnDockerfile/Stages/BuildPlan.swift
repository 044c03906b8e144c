import KilnGraph
import KilnOCI

/// Where a stage starts from.
public enum StageBase: Sendable, Equatable {
    /// An empty filesystem.
    case scratch
    /// Another stage, by index.
    case stage(Int)
    /// An image reference (after expansion of global args).
    case image(String)
}

/// A stage with its base and platform resolved and its dependencies on other stages known.
public struct ResolvedStage: Sendable {
    public var stage: Stage
    public var base: StageBase
    public var platform: Platform
    /// Stages this one reads (its base, `COPY --from`, `RUN --mount from=`), by index.
    public var dependencies: [Int]
    /// Images read by `COPY --from` or `RUN --mount from=` that are not stages.
    public var externalImages: [String]
}

/// The stages resolved against build options: which stage is the target and which stages it needs.
///
/// Only the target and what it depends on are built; every other stage is left out.
public struct BuildPlan: Sendable {
    public let dockerfile: Dockerfile
    public let options: BuildOptions
    /// The global args after `--build-arg` overrides and default expansion (with the platform args).
    public let globalArgs: VariableSet
    public let stages: [ResolvedStage]
    /// The index of the stage that becomes the image.
    public let target: Int
    /// The stages to build, dependencies before dependents.
    public let order: [Int]

    /// Resolves `dockerfile` for `options`.
    ///
    /// - Throws: ``DockerfileError`` for an unknown target, a bad `--from`, a stage cycle, a blank base name or
    ///   a bad platform.
    public init(dockerfile: Dockerfile, options: BuildOptions) throws(DockerfileError) {
        self.dockerfile = dockerfile
        self.options = options
        let lexer = ShellLexer(escapeToken: dockerfile.syntax.escapeToken)

        var globals = options.platformArgs
        for instruction in dockerfile.globalArgs {
            guard case .arg(let definitions) = instruction.kind else { continue }
            for definition in definitions {
                var value: String?
                if let given = options.buildArgs[definition.name] {
                    value = given
                } else if let defaultValue = definition.defaultValue {
                    do {
                        value = try lexer.processWord(defaultValue, with: globals)
                    } catch {
                        throw DockerfileError(error.description, range: instruction.range)
                    }
                }
                if let value { globals[definition.name] = value }
            }
        }
        self.globalArgs = globals

        var resolved: [ResolvedStage] = []
        var stageIndexByName: [String: Int] = [:]
        for stage in dockerfile.stages {
            let baseName: String
            do {
                baseName = try lexer.processWord(stage.baseName, with: globals)
            } catch {
                throw DockerfileError(error.description, range: stage.from.range)
            }
            guard !baseName.isEmpty else {
                throw DockerfileError("base name (\(stage.baseName)) should not be blank", range: stage.from.range)
            }
            var platform = options.targetPlatform
            if !stage.platform.isEmpty {
                let expanded: String
                do {
                    expanded = try lexer.processWord(stage.platform, with: globals)
                } catch {
                    throw DockerfileError(
                        "failed to process arguments for platform \(stage.platform): \(error.description)", range: stage.from.range)
                }
                guard !expanded.isEmpty else {
                    throw DockerfileError("empty platform value from expression \(stage.platform)", range: stage.from.range)
                }
                do {
                    platform = try Platform(parsing: expanded)
                } catch {
                    throw DockerfileError("failed to parse platform \(stage.platform): \(error.description)", range: stage.from.range)
                }
            }
            let base: StageBase
            if let index = stageIndexByName[baseName] {
                base = .stage(index)
            } else if baseName == "scratch" {
                base = .scratch
            } else {
                base = .image(baseName)
            }
            var resolvedStage = ResolvedStage(stage: stage, base: base, platform: platform, dependencies: [], externalImages: [])
            if case .stage(let index) = base { resolvedStage.dependencies.append(index) }
            resolved.append(resolvedStage)
            if let name = stage.name { stageIndexByName[name] = stage.index }
        }

        // Sources named by --from and mount from=, which may name any stage (checked below) or an image.
        for index in resolved.indices {
            for instruction in resolved[index].stage.instructions {
                for reference in Self.fromReferences(of: instruction) {
                    let expanded = (try? lexer.processWord(reference, with: EmptyVariables())) ?? ""
                    if expanded != reference {
                        throw DockerfileError(
                            "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
                            range: instruction.range)
                    }
                    if let number = Int(reference) {
                        guard number >= 0 && number < resolved.count else {
                            throw DockerfileError("invalid stage index \(number)", range: instruction.range)
                        }
                        resolved[index].dependencies.append(number)
                    } else if let named = dockerfile.stage(named: reference) {
                        resolved[index].dependencies.append(named.index)
                    } else {
                        resolved[index].externalImages.append(reference)
                    }
                }
            }
        }
        try Self.checkForCycles(resolved)

        let target: Int
        if let name = options.target {
            guard let stage = dockerfile.stage(named: name) else {
                var message = "target stage \(goQuoted(name)) could not be found"
                if let suggestion = Suggestion.closest(to: name, in: dockerfile.stages.compactMap(\.name)) {
                    message += " (did you mean \(suggestion)?)"
                }
                throw DockerfileError(message)
            }
            target = stage.index
        } else {
            target = resolved.count - 1
        }

        var needed = Set<Int>()
        var pending = [target]
        while let index = pending.popLast() {
            guard needed.insert(index).inserted else { continue }
            pending.append(contentsOf: resolved[index].dependencies)
        }
        for index in needed {
            var images = resolved[index].externalImages.map { ($0, "failed to parse stage name") }
            if case .image(let reference) = resolved[index].base { images.insert((reference, "failed to parse stage name"), at: 0) }
            for (reference, context) in images {
                do {
                    _ = try ImageReference(parsing: reference)
                } catch {
                    throw DockerfileError("\(context) \(goQuoted(reference)): \(error.reason)", range: resolved[index].stage.from.range)
                }
            }
            for dependency in resolved[index].dependencies where dependency > index {
                let current = resolved[index].stage.displayName
                let source = resolved[dependency].stage.displayName
                throw DockerfileError(
                    "cannot copy from stage \(goQuoted(source)), it needs to be defined before current stage \(goQuoted(current))",
                    range: resolved[index].stage.from.range)
            }
        }
        self.stages = resolved
        self.target = target
        self.order = needed.sorted()
    }

    /// Build args that may be given without an ARG declaration (docker's predefined proxy args).
    public static let predefinedArgs: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
        "ALL_PROXY", "all_proxy",
    ]

    /// `--build-arg` names that no global ARG and no ARG of a needed stage declares (docker warns about them).
    public var unconsumedBuildArgs: [String] {
        var declared = Set<String>()
        let instructions = dockerfile.globalArgs + order.flatMap { stages[$0].stage.instructions }
        for instruction in instructions {
            if case .arg(let definitions) = instruction.kind { declared.formUnion(definitions.map(\.name)) }
        }
        return options.buildArgs.keys.filter { !declared.contains($0) && !Self.predefinedArgs.contains($0) }.sorted()
    }

    /// The `--from` of COPY and the `from=` of RUN mounts in `instruction`.
    static func fromReferences(of instruction: Instruction) -> [String] {
        switch instruction.kind {
        case .copy(let copy) where !copy.from.isEmpty: return [copy.from]
        case .run(let run): return run.mounts.map(\.from).filter { !$0.isEmpty }
        default: return []
        }
    }

    private static func checkForCycles(_ stages: [ResolvedStage]) throws(DockerfileError) {
        enum Mark { case visiting, done }
        var marks: [Int: Mark] = [:]
        func visit(_ index: Int) -> Int? {
            if marks[index] == .done { return nil }
            if marks[index] == .visiting { return index }
            marks[index] = .visiting
            for dependency in stages[index].dependencies {
                if let cycle = visit(dependency) { return cycle }
            }
            marks[index] = .done
            return nil
        }
        for index in stages.indices {
            if let cycle = visit(index) {
                throw DockerfileError(
                    "circular dependency detected on stage: \(stages[cycle].stage.displayName)", range: stages[cycle].stage.from.range)
            }
        }
    }
}
