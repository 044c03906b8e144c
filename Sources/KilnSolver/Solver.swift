import Foundation
import KilnArchive
import KilnGraph
import KilnOCI
import KilnRegistry
import KilnRuntime
import KilnStore

/// Runs a build graph: every vertex the roots need, each once, independent ones concurrently, RUN steps
/// limited to `options.jobs` at a time. The first failure cancels the rest and is the error thrown.
public struct Solver: Sendable {
    public let store: LayoutStore
    public let executor: ContainerExecutor
    /// Pulls base images the store lacks; nil when pulling is not possible.
    public let registry: RegistryClient?
    public let options: SolveOptions
    public let progress: ProgressHandler

    public init(store: LayoutStore, executor: ContainerExecutor, registry: RegistryClient?, options: SolveOptions, progress: @escaping ProgressHandler = { _ in }) {
        self.store = store
        self.executor = executor
        self.registry = registry
        self.options = options
        self.progress = progress
    }

    var snapshots: SnapshotStore { SnapshotStore(store: store) }

    /// Solves the vertices `roots` need and returns the state of every solved vertex.
    public func solve(_ graph: BuildGraph, roots: [VertexID]) async throws -> [VertexID: FileSystemState] {
        let order = graph.closure(of: roots)
        let results = VertexResults()
        let limiter = StepLimiter(options.jobs)
        let session = BuildSession()
        session.expectSandboxSteps(order.filter { isOnDefaultNetwork(graph[$0]) }.count)
        let cache = BuildCache(store: store, options: options.cache)
        defer {
            cache.finish()
            session.finish(snapshots: snapshots)
        }
        let failure = FirstFailure()
        await withThrowingTaskGroup(of: Void.self) { group in
            for id in order {
                group.addTask {
                    let vertex = graph[id]
                    do {
                        var inputs: [FileSystemState] = []
                        for input in vertex.inputs {
                            do {
                                inputs.append(try await results.value(of: input))
                            } catch {
                                throw InputFailed(underlying: error)
                            }
                        }
                        try Task.checkCancellation()
                        let state = try await run(vertex, inputs: inputs, graph: graph, limiter: limiter, session: session, cache: cache)
                        await results.finish(id, with: .success(state))
                    } catch {
                        await results.finish(id, with: .failure(error))
                        if !(error is InputFailed) {
                            failure.record(error)
                            throw error
                        }
                    }
                }
            }
            // The first failure cancels every other step; the loop still waits for all of them to end.
            while !group.isEmpty {
                do {
                    try await group.next()
                } catch {
                    group.cancelAll()
                }
            }
        }
        if let error = failure.error { throw error }
        var states: [VertexID: FileSystemState] = [:]
        for id in order { states[id] = try await results.value(of: id) }
        return states
    }

    private func run(
        _ vertex: Vertex, inputs: [FileSystemState], graph: BuildGraph, limiter: StepLimiter, session: BuildSession, cache: BuildCache
    ) async throws -> FileSystemState {
        let started = Date()
        progress(.started(vertex.id, name: vertex.name))
        do {
            let state: FileSystemState
            switch vertex.op {
            case .image(let source):
                state = try await resolveImage(source, vertex: vertex, session: session)
            case .context(let source):
                guard let directory = options.contexts[source.name] else {
                    throw SolveError(step: vertex.name, message: "no local context named \(source.name) was given")
                }
                state = FileSystemState(directory: directory, excludes: try PathPatternMatcher(source.excludePatterns))
            case .exec(let exec):
                let base = inputs.first ?? .empty
                defer { if isOnDefaultNetwork(vertex) { session.finishSandboxStep() } }
                state = try await cached(vertex, inputs: inputs, base: base, graph: graph, session: session, cache: cache) {
                    await limiter.acquire()
                    defer { Task { await limiter.release() } }
                    return try await runExec(exec, vertex: vertex, inputs: inputs, session: session)
                }
            case .file(let file):
                let base = file.base.map { inputs[$0] } ?? .empty
                state = try await cached(vertex, inputs: inputs, base: base, graph: graph, session: session, cache: cache) {
                    try await runFile(file, vertex: vertex, inputs: inputs, session: session)
                }
            case .merge:
                var merged = FileSystemState()
                for input in inputs {
                    merged.layers += input.layers
                    merged.layerSlots += input.layerSlots
                }
                state = merged
            case .http(let source):
                state = try await download(source, vertex: vertex, session: session)
            case .git(let source):
                state = try await checkout(source, vertex: vertex, session: session)
            }
            progress(.finished(vertex.id, duration: Date().timeIntervalSince(started), layerSize: state.addedLayer?.uncompressedSize))
            return state
        } catch {
            let solveError = error as? SolveError ?? SolveError(
                step: vertex.name, message: error is CancellationError ? "cancelled" : "\(error)", sourceRanges: vertex.sourceRanges)
            progress(.failed(vertex.id, duration: Date().timeIntervalSince(started), message: solveError.message))
            if error is CancellationError { throw error }
            var located = solveError
            if located.sourceRanges.isEmpty { located.sourceRanges = vertex.sourceRanges }
            throw located
        }
    }

    /// A directory of this build under `executions/` (heredoc files, downloads, checkouts), with an owner
    /// file so that another kiln's sweep leaves it alone while this process lives; removed after the build.
    func makeScratchDirectory(_ kind: String, session: BuildSession) throws -> String {
        let directory = try OwnedDirectory.make(in: executor.executionsDirectory, prefix: "kiln-\(kind)-").path
        session.addScratch(directory)
        return directory
    }

    /// Stores the upper directory of a step as a layer and makes it the layer's snapshot.
    func commitLayer(_ execution: Execution, session: BuildSession) throws -> StateLayer? {
        guard execution.hasChanges else {
            execution.discard()
            return nil
        }
        defer { execution.discard() }
        let archiveOptions = TreeArchiver.Options(sourceDateEpoch: options.sourceDateEpoch, convertsOverlayWhiteouts: true)
        let (descriptor, info) = try store.commitLayer(directory: execution.upperDirectory, compression: options.compression, level: options.compressionLevel, options: archiveOptions)
        try snapshots.adopt(directory: execution.upperDirectory, diffID: info.diffID)
        try session.hold(info.diffID, in: snapshots)
        return StateLayer(descriptor: descriptor, diffID: info.diffID, uncompressedSize: info.uncompressedSize, snapshot: snapshots.rootfs(for: info.diffID))
    }
}

/// The first real failure of a build (not a cancellation caused by it).
final class FirstFailure: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?

    /// Keeps `error` if it is the first (a real error replaces a cancellation).
    func record(_ error: any Error) {
        lock.withLock {
            if stored == nil || (stored is CancellationError && !(error is CancellationError)) { stored = error }
        }
    }

    var error: (any Error)? { lock.withLock { stored } }
}

/// What one build holds for its duration: snapshot references (so a concurrent prune leaves them) and
/// scratch directories of downloads and checkouts.
final class BuildSession: @unchecked Sendable {
    let holder = "build-\(getpid())-\(UUID().uuidString.prefix(8))"
    private let lock = NSLock()
    private var held: Set<Digest> = []
    private var scratch: [String] = []
    private var sandboxStepsLeft = 0

    /// RUN steps on the default network that have not ended (run, cache hit or failed), so that a step's
    /// network is started ahead only when another such step will follow.
    func expectSandboxSteps(_ count: Int) {
        lock.withLock { sandboxStepsLeft = count }
    }

    func finishSandboxStep() {
        lock.withLock { sandboxStepsLeft -= 1 }
    }

    /// Whether a default-network step besides the one asking has yet to end.
    var anotherSandboxStepFollows: Bool {
        lock.withLock { sandboxStepsLeft > 1 }
    }

    func hold(_ diffID: Digest, in snapshots: SnapshotStore) throws {
        let isNew = lock.withLock { held.insert(diffID).inserted }
        if isNew { try snapshots.acquire(diffID, holder: holder) }
    }

    func addScratch(_ path: String) {
        lock.withLock { scratch.append(path) }
    }

    func finish(snapshots: SnapshotStore) {
        let (diffIDs, paths) = lock.withLock { (held, scratch) }
        for diffID in diffIDs { try? snapshots.release(diffID, holder: holder) }
        for path in paths { try? FileManager.default.removeItem(atPath: path) }
    }
}
