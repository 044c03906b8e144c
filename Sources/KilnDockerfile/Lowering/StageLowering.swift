import KilnGraph
import KilnOCI

/// The state of one stage while its instructions are dispatched, in order.
struct StageLowering {
    let plan: BuildPlan
    let resolved: ResolvedStage
    var graph: BuildGraph
    let loweredStages: [Int: LoweredStage]
    let context: ContextSource
    let baseImages: any BaseImageConfigProvider

    let lexer: ShellLexer
    /// The stage's filesystem so far.
    var root: VertexID?
    var config: ImageConfig
    /// Variables visible to expansion and to RUN: the image ENV plus ARGs declared in the stage.
    var variables = VariableSet()
    /// Build args declared in the stage with their values (shown in RUN history).
    var declaredArgs: [(String, String)] = []
    var commandWasSet = false
    var step = 0
    let totalSteps: Int

    init(
        plan: BuildPlan, resolved: ResolvedStage, graph: BuildGraph, loweredStages: [Int: LoweredStage],
        context: ContextSource, baseImages: any BaseImageConfigProvider
    ) {
        self.plan = plan
        self.resolved = resolved
        self.graph = graph
        self.loweredStages = loweredStages
        self.context = context
        self.baseImages = baseImages
        self.lexer = ShellLexer(escapeToken: plan.dockerfile.syntax.escapeToken)
        var config = ImageConfig(platform: resolved.platform)
        switch resolved.base {
        case .scratch:
            // BuildKit's empty image: the default PATH and "/" as working directory.
            config.config.env = ["PATH=\(Lowering.defaultPath)"]
            config.config.workingDir = "/"
        case .stage(let index):
            let base = loweredStages[index]!
            config = base.config
            root = base.root
        case .image(let reference):
            if let known = baseImages.config(for: reference, platform: resolved.platform) {
                config = known
                config.architecture = resolved.platform.architecture
                config.os = resolved.platform.os
                config.variant = resolved.platform.variant
            }
        }
        self.config = config
        for assignment in config.config.env ?? [] {
            let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            variables[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        var total = 0
        if case .image = resolved.base { total = 1 }
        for instruction in resolved.stage.instructions {
            switch instruction.kind {
            case .add, .copy, .run, .workdir: total += 1
            default: break
            }
        }
        self.totalSteps = total
    }

    mutating func run() throws(DockerfileError) -> LoweredStage {
        if case .image(let reference) = resolved.base {
            step += 1
            root = graph.add(
                .image(ImageSource(reference: Self.normalised(reference), platform: resolved.platform)),
                name: vertexName("FROM \(reference)"), sourceRanges: [resolved.stage.from.range])
        }
        let triggers = config.config.onBuild ?? []
        config.config.onBuild = nil
        for trigger in triggers {
            try dispatchTrigger(trigger)
        }
        for instruction in resolved.stage.instructions {
            do {
                try dispatch(instruction)
            } catch {
                throw error.located(at: instruction.range)
            }
        }
        return LoweredStage(index: resolved.stage.index, name: resolved.stage.displayName, root: root, config: config)
    }

    /// Runs an ONBUILD trigger inherited from the base, as if written at the top of the stage.
    private mutating func dispatchTrigger(_ expression: String) throws(DockerfileError) {
        let parsed: ParsedDockerfile
        do {
            parsed = try DockerfileParser.parse(expression)
        } catch {
            throw DockerfileError("failed to parse ONBUILD trigger \(goQuoted(expression)): \(error.message)",
                                  range: resolved.stage.from.range)
        }
        for node in parsed.instructions {
            var instruction = try InstructionParser.parse(node)
            instruction.range = resolved.stage.from.range
            try dispatch(instruction)
        }
    }

    mutating func dispatch(_ instruction: Instruction) throws(DockerfileError) {
        switch instruction.kind {
        case .from: break
        case .run(let run): try dispatchRun(run, instruction: instruction)
        case .copy(let copy): try dispatchCopy(copy, instruction: instruction)
        case .add(let add): try dispatchAdd(add, instruction: instruction)
        case .env(let pairs): try dispatchEnv(pairs)
        case .label(let pairs): try dispatchLabel(pairs)
        case .arg(let definitions): try dispatchArg(definitions)
        case .workdir(let path): try dispatchWorkdir(path, instruction: instruction)
        case .user(let user): try dispatchUser(user)
        case .expose(let ports): try dispatchExpose(ports)
        case .volume(let volumes): try dispatchVolume(volumes)
        case .stopSignal(let signal): try dispatchStopSignal(signal)
        case .cmd(let command): dispatchCmd(command)
        case .entrypoint(let command): dispatchEntrypoint(command)
        case .healthcheck(let health): dispatchHealthcheck(health, instruction: instruction)
        case .shell(let shell):
            config.config.shell = shell
            commitHistory("SHELL \(goList(shell))")
        case .onbuild(let expression):
            config.config.onBuild = (config.config.onBuild ?? []) + [expression]
            commitHistory("ONBUILD \(expression)")
        case .maintainer(let maintainer):
            config.author = maintainer
            commitHistory("MAINTAINER \(maintainer)")
        }
    }

    // MARK: Helpers

    /// Expands one word with the stage's variables.
    func expand(_ word: String) throws(DockerfileError) -> String {
        do {
            return try lexer.processWord(word, with: variables)
        } catch {
            throw DockerfileError(error.description)
        }
    }

    /// Expands a heredoc body of COPY/ADD: variables only, quotes stay literal, escape is always `\\`.
    func expandHeredocBody(_ body: String) throws(DockerfileError) -> String {
        var lexer = ShellLexer(escapeToken: "\\")
        lexer.skipProcessQuotes = true
        do {
            return try lexer.processWord(body, with: variables)
        } catch {
            throw DockerfileError(error.description)
        }
    }

    var workingDirectory: String {
        let dir = config.config.workingDir ?? ""
        return dir.isEmpty ? "/" : dir
    }

    var shell: [String] { config.config.shell ?? ["/bin/sh", "-c"] }

    /// `[name step/total] text`, as buildx prints it.
    func vertexName(_ text: String) -> String {
        var prefix = plan.dockerfile.stages.count > 1 ? "\(resolved.stage.displayName) " : ""
        if plan.options.namesPlatformInSteps { prefix = "\(resolved.platform) " + prefix }
        return "[\(prefix)\(step)/\(totalSteps)] \(text)"
    }

    mutating func commitHistory(_ createdBy: String, emptyLayer: Bool = true) {
        config.history.append(History(createdBy: createdBy, comment: emptyLayer ? nil : "buildkit.dockerfile.v0", emptyLayer: emptyLayer ? true : nil))
    }

    /// The environment of a build step: image ENV and stage ARGs, with a default PATH.
    var stepEnvironment: [String] {
        var environment = variables
        if environment["PATH"] == nil { environment["PATH"] = Lowering.defaultPath }
        return environment.assignments
    }

    /// The vertex holding the filesystem of `--from`/`from=` source `reference`.
    mutating func sourceVertex(for reference: String, range: SourceRange) -> VertexID {
        let stageIndex: Int? = Int(reference) ?? plan.dockerfile.stage(named: reference)?.index
        if let stageIndex {
            if let root = loweredStages[stageIndex]?.root { return root }
            return graph.add(.file(FileOp(base: nil, actions: [])), name: "scratch")
        }
        return graph.add(
            .image(ImageSource(reference: Self.normalised(reference), platform: resolved.platform)), name: "FROM \(reference)",
            sourceRanges: [range])
    }

    /// The fully qualified reference (`busybox` → `docker.io/library/busybox:latest`), so equal images are one vertex.
    static func normalised(_ reference: String) -> String {
        (try? ImageReference(parsing: reference))?.description ?? reference
    }

    mutating func contextVertex() -> VertexID {
        graph.add(.context(context), name: "[internal] load build context", sourceRanges: [])
    }

    /// `path` made absolute against the working directory, cleaned, with a trailing slash kept.
    func absolutePath(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : workingDirectory + "/" + path
        let cleaned = PathText.clean(joined)
        let wantsDirectory = path.hasSuffix("/") || path.hasSuffix("/.") || path == "."
        return wantsDirectory && cleaned != "/" ? cleaned + "/" : cleaned
    }

    /// Go's `%q` of a string slice: `["a" "b"]`.
    func goList(_ values: [String]) -> String {
        "[" + values.map(goQuoted).joined(separator: " ") + "]"
    }
}

/// Lexical path cleaning (Go's `path.Clean`).
enum PathText {
    static func clean(_ path: String) -> String {
        let isAbsolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !isAbsolute {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if isAbsolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
