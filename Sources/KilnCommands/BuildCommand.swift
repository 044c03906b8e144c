import ArgumentParser
import Foundation
import KilnArchive
import KilnDockerfile
import KilnGraph
import KilnOCI
import KilnRegistry
import KilnReporting
import KilnRuntime
import KilnSolver
import KilnStore

/// `kiln build`: `docker build`'s command line, with no daemon.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build", abstract: "Build an image from a Dockerfile and a context directory (or a tar on standard input).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("Name of the Dockerfile (default: CONTEXT/Dockerfile)", valueName: "file"))
    var file: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Name and optionally a tag (name:tag); repeatable", valueName: "name"))
    var tag: [String] = []

    @Option(help: ArgumentHelp("Set the target build stage", valueName: "stage"))
    var target: String?

    @Option(name: .customLong("build-arg"), help: ArgumentHelp("Set a build-time variable", valueName: "name[=value]"))
    var buildArgs: [String] = []

    @Option(help: ArgumentHelp("Secret to expose to RUN --mount=type=secret", valueName: "id=…,src=…|env=…"))
    var secret: [String] = []

    @Option(help: ArgumentHelp("SSH agent socket to expose to RUN --mount=type=ssh", valueName: "default|id[=socket]"))
    var ssh: [String] = []

    @Option(help: ArgumentHelp("Target platform, or several separated by commas for a multi-platform image", valueName: "os/arch[/variant][,…]"))
    var platform: String?

    @Flag(name: .customLong("no-cache"), help: "Do not use cache when building the image")
    var noCache = false

    @Option(name: .customLong("no-cache-filter"), help: ArgumentHelp("Do not cache the given stages", valueName: "stage"))
    var noCacheFilter: [String] = []

    @Option(name: .customLong("cache-from"), help: ArgumentHelp("Import build cache: type=local,src=DIR | type=registry,ref=REF | REF", valueName: "source"))
    var cacheFrom: [String] = []

    @Option(name: .customLong("cache-to"), help: ArgumentHelp(
        "Export build cache: type=local,dest=DIR | type=registry,ref=REF [,mode=min|max] [,cache-mounts=true]", valueName: "destination"))
    var cacheTo: [String] = []

    @Flag(name: .customLong("explain-cache"), help: "After the build, compare every step with the previous build of this target")
    var explainCache = false

    @Flag(help: "Always pull base images, even when the store has them")
    var pull = false

    @Option(help: ArgumentHelp("Set metadata for the image", valueName: "key=value"))
    var label: [String] = []

    @Option(help: ArgumentHelp("Network of RUN steps: default (loopback only), none, host", valueName: "mode"))
    var network = "default"

    @Option(help: ArgumentHelp("Grant an entitlement: network.host, security.insecure", valueName: "entitlement"))
    var allow: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("Output: type=image|oci|docker|local|tar,dest=…[,push=true]; DIR; - for a tar on stdout", valueName: "spec"))
    var output: [String] = []

    @Flag(help: "Push the image to its registry (same as --output type=image,push=true)")
    var push = false

    @Flag(help: "Keep the image in the local store (the default; accepted for docker compatibility)")
    var load = false

    @Option(help: ArgumentHelp("Write the image ID to the file", valueName: "file"))
    var iidfile: String?

    @Option(name: .customLong("metadata-file"), help: ArgumentHelp("Write build result metadata (digests) to the file", valueName: "file"))
    var metadataFile: String?

    @Option(help: ArgumentHelp("Progress output: auto, tty, plain, quiet, rawjson", valueName: "type"))
    var progress = "auto"

    @Flag(name: .shortAndLong, help: "Suppress the build output and print the image ID on success")
    var quiet = false

    @Option(help: ArgumentHelp("How many RUN steps may run at once (default: the number of cores)", valueName: "n"))
    var jobs: Int?

    @Option(help: ArgumentHelp("OCI runtime: crun, runc or a path (default: crun, else runc)", valueName: "runtime"))
    var runtime: String?

    @Argument(help: ArgumentHelp("The build context: a directory, or - for a tar (or a Dockerfile) on standard input", valueName: "context"))
    var context: String

    func run() async throws {
        let started = Date()
        guard let progressMode = BuildProgress.Mode(rawValue: progress) else {
            throw ValidationError("invalid progress mode \(progress): use auto, tty, plain, quiet or rawjson")
        }
        let outputs = try outputFlags()
        let cacheImports = try cacheFrom.map { try CacheFlag.parse($0, export: false) }
        let cacheExports = try cacheTo.map { try CacheFlag.parse($0, export: true) }
        let tags = try tag.map { try ArgumentValue.reference($0) }
        let buildContext = try BuildContextDirectory(argument: context, dockerfile: file)
        defer { buildContext.cleanUp() }
        let input = try buildContext.dockerfileInput()
        let renderer = DiagnosticRenderer(fileName: input.displayName, source: input.source)

        // Frontend: parse, resolve the stages the target needs.
        let dockerfile = try input.parse(renderer: renderer, failureStatus: 1)
        // One plan per target platform: each resolves its stages with its own TARGETPLATFORM.
        let platforms = try ArgumentValue.platforms(platform)
        var plans: [BuildPlan] = []
        for targetPlatform in platforms {
            var buildOptions = BuildOptions(target: target, buildArgs: try BuildArgument.parse(buildArgs))
            buildOptions.targetPlatform = targetPlatform
            buildOptions.namesPlatformInSteps = platforms.count > 1
            do {
                plans.append(try BuildPlan(dockerfile: dockerfile, options: buildOptions))
            } catch {
                printError(renderer.render(Diagnostic(error)))
                throw ExitCode(1)
            }
        }
        let unconsumed = plans[0].unconsumedBuildArgs
        if !unconsumed.isEmpty && !quiet {
            printError("warning: one or more build-args [\(unconsumed.joined(separator: " "))] were not consumed")
        }

        let store = try store.openStore()
        let runtime: OCIRuntime
        do {
            runtime = try OCIRuntime.detect(preferred: self.runtime)
        } catch {
            throw CommandFailure("\(error)")
        }
        let client = RegistryClient(configuration: registry.makeConfiguration())
        do {
            let result = try await SignalCancellation.run { [self, plans] in
                try await build(plans: plans, input: input, renderer: renderer, store: store, runtime: runtime, client: client,
                                contextDirectory: buildContext.directory, progressMode: quiet ? .quiet : progressMode, tags: tags, outputs: outputs,
                                caches: (cacheImports, cacheExports), started: started)
            }
            try? await client.shutdown()
            if quiet { print(result) }
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func outputFlags() throws -> [OutputFlag] {
        var outputs = try output.map { try OutputFlag.parse($0) }
        if push {
            if let index = outputs.firstIndex(where: { $0.kind == .image }) {
                outputs[index].push = true
            } else {
                outputs.append(OutputFlag(kind: .image, destination: nil, push: true))
            }
        }
        if outputs.isEmpty { outputs = [OutputFlag(kind: .image, destination: nil)] }
        return outputs
    }

    /// What solving one target platform's plan produced.
    private struct PlatformBuild {
        var plan: BuildPlan
        var lowered: LoweredBuild
        var states: [VertexID: FileSystemState]
        let printer: BuildProgress
        var targetState: FileSystemState { lowered.target.root.flatMap { states[$0] } ?? .empty }
    }

    /// Builds every plan (one per target platform) and exports; returns the image ID (the index digest for
    /// several platforms).
    private func build(
        plans: [BuildPlan], input: DockerfileInput, renderer: DiagnosticRenderer, store: LayoutStore, runtime: OCIRuntime,
        client: RegistryClient, contextDirectory: String, progressMode: BuildProgress.Mode, tags: [ImageReference],
        outputs: [OutputFlag], caches: (imports: [CacheFlag], exports: [CacheFlag]), started: Date
    ) async throws -> String {
        let bases = BaseImages(store: store, registry: client, alwaysPull: pull)
        // Base images first: lowering needs their config (ENV, WORKDIR, USER, ONBUILD …).
        var configs = KnownBaseImages()
        for plan in plans {
            for index in plan.order {
                guard case .image(let reference) = plan.stages[index].base else { continue }
                let platform = plan.stages[index].platform
                guard configs.config(for: reference, platform: platform) == nil else { continue }
                do {
                    let image = try await bases.image(reference, platform: platform) { message in
                        if progressMode != .quiet { printError("#0 \(message)") }
                    }
                    configs.add(image.config, for: reference, platform: platform)
                } catch let error as SolveError {
                    printError(renderer.render(Diagnostic(severity: .error, message: error.message, range: plan.stages[index].stage.from.range)))
                    throw ExitCode(1)
                }
            }
        }
        var lowereds: [LoweredBuild] = []
        for plan in plans {
            let lowered: LoweredBuild
            do {
                lowered = try Lowering.lower(plan, contextExcludes: input.ignorePatterns, baseImages: configs)
            } catch {
                printError(renderer.render(Diagnostic(error)))
                throw ExitCode(1)
            }
            // RUN for another architecture goes through the kernel's binfmt handlers; say so before starting.
            let needed = lowered.target.root.map { lowered.graph.closure(of: [$0]) } ?? []
            if needed.contains(where: { if case .exec = lowered.graph[$0].op { return true } else { return false } }) {
                for stage in plan.order.map({ plan.stages[$0] }) {
                    do {
                        try PlatformEmulation.check(stage.platform)
                    } catch {
                        printError(renderer.render(Diagnostic(severity: .error, message: "\(error)", range: stage.stage.from.range)))
                        throw ExitCode(1)
                    }
                }
            }
            lowereds.append(lowered)
        }

        var options = SolveOptions()
        options.contexts = ["context": contextDirectory]
        options.secrets = try SecretFlag.parse(secret)
        options.sshAgents = try SSHFlag.parse(ssh)
        options.defaultNetwork = network
        options.entitlements = Set(allow)
        options.alwaysPull = pull
        if let jobs { options.jobs = jobs }
        // Layers are made once for every output, so the first output that names a compression sets it.
        if let compressed = outputs.first(where: { $0.compression != nil }) {
            options.compression = compressed.compression ?? .gzip
            options.compressionLevel = compressed.compressionLevel
        }
        if let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap({ Int64($0) }) { options.sourceDateEpoch = epoch }
        let exchange = CacheExchange(store: store, registry: client)
        for source in caches.imports {
            // As in BuildKit, a cache that cannot be imported only costs time: the build goes on without it.
            do {
                let summary = try await exchange.importCache(from: source.location)
                if progressMode != .quiet { printError("#0 importing cache \(source.location.text): \(summary.records) records, \(summary.cacheMounts) cache mounts") }
            } catch {
                printError("warning: cannot import cache \(source.location.text): \(error)")
            }
        }
        let executor = ContainerExecutor(runtime: runtime, store: store)
        if case .copy(let reason) = executor.snapshotMethod {
            printError("warning: \(reason); each step copies its root filesystem instead (slower, same layers)")
        }
        await executor.sweepAbandoned()
        // The platforms one after the other: work they share (stages on $BUILDPLATFORM) is a cache hit the
        // second time.
        var builds: [PlatformBuild] = []
        for (plan, lowered) in zip(plans, lowereds) {
            options.cache = cacheOptions(plan: plan, lowered: lowered, platformCount: plans.count)
            let printer = BuildProgress(mode: progressMode)
            let solver = Solver(store: store, executor: executor, registry: client, options: options) { printer.handle($0) }
            do {
                let states = try await solver.solve(lowered.graph, roots: lowered.target.root.map { [$0] } ?? [])
                printer.finish()
                builds.append(PlatformBuild(plan: plan, lowered: lowered, states: states, printer: printer))
            } catch {
                printer.finish()
                await executor.shutdown()
                guard let error = error as? SolveError else { throw error }
                report(error, renderer: renderer)
                throw ExitCode(1)
            }
        }
        await executor.shutdown()

        // Export: the target stage becomes the image; several platforms become an index of their images.
        var images: [StoredImage] = []
        for build in builds {
            let config = try ImageExporter.finalConfig(build.lowered.target.config, state: build.targetState, created: exportDate(options), labels: try labels())
            images.append(try ImageExporter.commit(config: config, state: build.targetState, tags: tags, partOfIndex: builds.count > 1, to: store))
        }
        let image = images.count == 1 ? images[0] : try store.commitIndex(images, tags: tags)
        for output in outputs {
            try await export(image, platformImages: images, output: output, store: store, client: client, tags: tags, quietly: progressMode == .quiet)
        }
        for destination in caches.exports {
            let keys = builds.flatMap { cacheKeys(lowered: $0.lowered, states: $0.states, allSteps: destination.exportsAllSteps) }
            do {
                let summary = try await exchange.export(keys: keys, includesCacheMounts: destination.includesCacheMounts, to: destination.location)
                if progressMode != .quiet {
                    printError("#0 exported cache to \(destination.location.text): \(summary.records) records, \(summary.layers) layers, \(summary.cacheMounts) cache mounts")
                }
            } catch {
                throw CommandFailure("cannot export cache to \(destination.location.text): \(error)")
            }
        }
        if builds.contains(where: { $0.printer.cacheOutcomes().contains { $0.reasons != nil } }) {
            collectCache(store: store, quietly: progressMode == .quiet)
        }
        // As buildx: the config digest names a single-platform image, the index digest a multi-platform one.
        let imageID = images.count == 1 ? image.id.description : image.descriptor.digest.description
        if let iidfile { try imageID.write(toFile: iidfile, atomically: true, encoding: .utf8) }
        if let metadataFile {
            var metadata: [String: Any] = [
                "containerimage.digest": image.descriptor.digest.description,
                "image.name": tags.map(\.description).joined(separator: ","),
            ]
            if images.count == 1 { metadata["containerimage.config.digest"] = image.id.description }
            let data = try JSONSerialization.data(withJSONObject: metadata, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: metadataFile))
        }
        if progressMode != .quiet {
            for (build, platformImage) in zip(builds, images) {
                if builds.count > 1 { print("\(platformImage.config.platform):") }
                var summary = summarise(build, image: platformImage, tags: tags, started: started)
                summary.cache = build.printer.cacheOutcomes()
                print(summary.render())
                if explainCache { print(summary.renderCacheExplanation()) }
            }
            if builds.count > 1 {
                let names = tags.isEmpty ? "" : " " + tags.map(\.familiarDescription).joined(separator: ", ")
                print("Index\(names): \(images.count) platforms (\(images.map { $0.config.platform.description }.joined(separator: ", "))), \(image.descriptor.digest)")
            }
        }
        return imageID
    }

    /// Keeps the build cache within its limit after a build that added records: `KILN_CACHE_KEEP_STORAGE`
    /// (a size, or `off`), by default a tenth of the file system the store is on, as BuildKit's default policy.
    private func collectCache(store: LayoutStore, quietly: Bool) {
        let setting = ProcessInfo.processInfo.environment["KILN_CACHE_KEEP_STORAGE"] ?? ""
        if setting == "off" { return }
        var limit = ByteSize.parseRAM(setting)
        if limit == nil {
            var info = statvfs()
            guard statvfs(store.layout.root, &info) == 0 else { return }
            limit = Int64(info.f_blocks) * Int64(info.f_frsize) / 10
        }
        guard let limit, let (removed, bytes) = try? CachePruner(store: store).enforce(limit: limit), !removed.isEmpty else { return }
        if !quietly { printError("#0 build cache over \(Formatting.size(limit)): removed \(removed.count) least recently used records (\(Formatting.size(bytes)))") }
    }

    /// The cache keys an export carries: every solved step (`mode=max`), or the steps whose layers make
    /// up the image (`mode=min`: from the target back along each step's base filesystem).
    private func cacheKeys(lowered: LoweredBuild, states: [VertexID: FileSystemState], allSteps: Bool) -> [Digest] {
        if allSteps { return states.keys.sorted().compactMap { states[$0]?.cacheKey } }
        var keys: [Digest] = []
        var pending = lowered.target.root.map { [$0] } ?? []
        var visited = Set<VertexID>()
        while let id = pending.popLast() {
            guard visited.insert(id).inserted else { continue }
            let vertex = lowered.graph[id]
            if let key = states[id]?.cacheKey { keys.append(key) }
            switch vertex.op {
            case .exec: pending += vertex.inputs.prefix(1)
            case .file(let file): pending += file.base.map { [vertex.inputs[$0]] } ?? []
            case .merge: pending += vertex.inputs
            default: break
            }
        }
        return keys.reversed()
    }

    /// `--no-cache`, `--no-cache-filter` (every step of the named stages runs) and what names this build
    /// for miss explanations: the context, the Dockerfile and the target.
    private func cacheOptions(plan: BuildPlan, lowered: LoweredBuild, platformCount: Int) -> CacheOptions {
        var cache = CacheOptions()
        cache.usesRecords = !noCache
        let filtered = Set(noCacheFilter.flatMap { $0.split(separator: ",").map(String.init) })
        for stage in lowered.stages where filtered.contains(stage.name) || filtered.contains(String(stage.index)) {
            guard let root = stage.root else { continue }
            var own = Set(lowered.graph.closure(of: [root]))
            for other in lowered.stages where other.index != stage.index {
                if let otherRoot = other.root, own.contains(otherRoot) { own.subtract(lowered.graph.closure(of: [otherRoot])) }
            }
            cache.uncachedSteps.formUnion(own)
        }
        let contextPath = context == "-" ? "-" : URL(fileURLWithPath: context).standardizedFileURL.path
        let dockerfilePath = file.map { $0 == "-" ? "-" : URL(fileURLWithPath: $0).standardizedFileURL.path } ?? "Dockerfile"
        cache.historyKey = [contextPath, dockerfilePath, target ?? ""].joined(separator: "\n")
        // Each platform of a multi-platform build is compared with the same platform's previous build.
        if platformCount > 1 { cache.historyKey = (cache.historyKey ?? "") + "\n" + plan.options.targetPlatform.description }
        return cache
    }

    private func exportDate(_ options: SolveOptions) -> Date {
        options.sourceDateEpoch.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
    }

    private func labels() throws -> [String: String] {
        var result: [String: String] = [:]
        for item in label {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            result[pair[0]] = pair.count > 1 ? pair[1] : ""
        }
        return result
    }

    /// A failed step: the Dockerfile line with a caret, the message, and the step's last output lines.
    private func report(_ error: SolveError, renderer: DiagnosticRenderer) {
        if !error.lastOutput.isEmpty {
            printError("------")
            printError(" > \(error.step):")
            for line in error.lastOutput { printError(line) }
            printError("------")
        }
        printError(renderer.render(Diagnostic(severity: .error, message: error.message, range: error.sourceRanges.first)))
    }

    private func export(
        _ image: StoredImage, platformImages: [StoredImage], output: OutputFlag, store: LayoutStore, client: RegistryClient,
        tags: [ImageReference], quietly: Bool
    ) async throws {
        if platformImages.count > 1 {
            switch output.kind {
            case .docker:
                throw CommandFailure("a docker archive holds one platform: use --output type=oci for a multi-platform image, or one --platform")
            case .tar:
                throw CommandFailure("--output type=tar holds one platform's files: use type=local (one directory per platform) or one --platform")
            case .local:
                // As buildx: one directory per platform, named like linux_arm64.
                let destination = output.destination ?? "."
                for platformImage in platformImages {
                    let name = platformImage.config.platform.description.replacingOccurrences(of: "/", with: "_")
                    try FilesystemExport.export(platformImage, from: store, kind: .directory, to: destination + "/" + name)
                }
                return
            case .image, .oci:
                break
            }
        }
        switch output.kind {
        case .image:
            for name in output.names { try store.tag(try ArgumentValue.reference(name), image.descriptor) }
            guard output.push else { return }
            let names = try output.names.map { try ArgumentValue.reference($0) } + tags
            guard !names.isEmpty else { throw CommandFailure("--push needs a name: give -t NAME or --output type=image,name=NAME,push=true") }
            for name in names {
                let digest = try await client.push(image, to: name, from: store, progress: quietly ? nil : transferReporter(verb: "pushing"))
                if !quietly { printError("pushed \(name.familiarDescription)@\(digest)") }
            }
        case .oci, .docker:
            let format: ImageArchiveFormat = output.kind == .oci ? .oci : .docker
            let destination = output.destination ?? "-"
            if destination == "-" {
                _ = try store.save([image], format: format, to: FileByteSink(descriptor: 1, name: "standard output"))
            } else {
                let temporary = destination + ".kiln-partial"
                do {
                    _ = try store.save([image], format: format, to: try FileByteSink(path: temporary))
                    guard rename(temporary, destination) == 0 else { throw CommandFailure("cannot write \(destination)") }
                } catch {
                    unlink(temporary)
                    throw error
                }
            }
        case .local, .tar:
            try FilesystemExport.export(image, from: store, kind: output.kind == .local ? .directory : .tar, to: output.destination ?? "-")
        }
    }

    private func summarise(_ build: PlatformBuild, image: StoredImage, tags: [ImageReference], started: Date) -> BuildSummary {
        let (plan, lowered, states, printer) = (build.plan, build.lowered, build.states, build.printer)
        var assigned = Set<VertexID>()
        var stages: [BuildSummary.Stage] = []
        for stage in lowered.stages {
            let vertices = stage.root.map { lowered.graph.closure(of: [$0]) } ?? []
            let own = vertices.filter { !assigned.contains($0) }
            assigned.formUnion(own)
            let duration = own.reduce(0) { $0 + printer.duration(of: $1) }
            let state = stage.root.flatMap { states[$0] } ?? .empty
            let base: String
            switch plan.stages[stage.index].base {
            case .scratch: base = "scratch"
            case .stage(let index): base = plan.stages[index].stage.displayName
            case .image(let reference): base = reference
            }
            stages.append(BuildSummary.Stage(
                name: stage.name, base: base, size: state.size, layers: state.layers.count, duration: duration,
                isTarget: stage.index == lowered.target.index))
        }
        let compressed = image.manifest.layers.reduce(0) { $0 + $1.size }
        return BuildSummary(
            stages: stages, imageID: image.id.description, tags: tags.map(\.familiarDescription), compressedSize: compressed,
            totalDuration: Date().timeIntervalSince(started))
    }
}

extension CacheLocation {
    /// How flags and messages name it.
    var text: String {
        switch self {
        case .local(let path): return "type=local,\(path)"
        case .registry(let reference): return reference.familiarDescription
        }
    }
}

/// Base image configs found before lowering.
struct KnownBaseImages: BaseImageConfigProvider {
    private var configs: [String: ImageConfig] = [:]

    mutating func add(_ config: ImageConfig, for reference: String, platform: Platform) {
        configs[reference + " " + platform.description] = config
    }

    func config(for reference: String, platform: Platform) -> ImageConfig? {
        configs[reference + " " + platform.description]
    }
}
