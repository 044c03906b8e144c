import Foundation
import KilnGraph
import KilnOCI
import KilnStore

/// How a build uses the cache (`--no-cache`, `--no-cache-filter`) and what it compares misses with.
public struct CacheOptions: Sendable {
    /// Whether steps may reuse cache records (`--no-cache` turns this off; results are still recorded).
    public var usesRecords = true
    /// Steps that must run even when cached (the stages of `--no-cache-filter`).
    public var uncachedSteps: Set<VertexID> = []
    /// Names the build (context, Dockerfile, target) whose previous run misses are explained against.
    public var historyKey: String?

    public init() {}
}

/// The cache as one build uses it: keys of its steps, lookups and records in the store, the stat cache
/// for source checksums, and the previous build of the same target for explaining misses.
final class BuildCache: @unchecked Sendable {
    let records: CacheRecordStore
    let statCache: StatCache
    let options: CacheOptions
    private let historyPath: String?
    private let previous: [String: StepFingerprint]
    private let lock = NSLock()
    private var current: [String: StepFingerprint] = [:]

    init(store: LayoutStore, options: CacheOptions) {
        self.records = CacheRecordStore(store: store)
        self.statCache = StatCache(path: store.layout.statCacheFile)
        self.options = options
        historyPath = options.historyKey.map { store.layout.buildHistoryDirectory + "/" + Digest.sha256(of: $0).encoded + ".json" }
        var previous: [String: StepFingerprint] = [:]
        if let historyPath, let data = FileManager.default.contents(atPath: historyPath),
           let steps = try? JSONDecoder().decode([StepFingerprint].self, from: data) {
            for step in steps { previous[StepFingerprint.slot(of: step.name)] = step }
        }
        self.previous = previous
    }

    /// The fingerprint of a RUN or file step: its op, its inputs' identities, and checksums of the files it
    /// reads from directory inputs (COPY sources, bind mount sources).
    func fingerprint(of vertex: Vertex, inputs: [FileSystemState], graph: BuildGraph, settings: String) throws -> StepFingerprint {
        var sources: [String: [String: String]] = [:]
        switch vertex.op {
        case .file(let file):
            for (index, action) in file.actions.enumerated() {
                guard case .copy(let copy) = action, copy.input < inputs.count, let directory = inputs[copy.input].directory else { continue }
                let checksum = SourceChecksum(tree: CopySource(root: directory, ignored: inputs[copy.input].excludes), includesOwners: false, statCache: statCache)
                sources["COPY source \(index + 1)"] = try checksum.entries(of: copy)
            }
        case .exec(let exec):
            for mount in exec.mounts where mount.kind == .bind || mount.kind == .cache {
                guard let input = mount.input, input < inputs.count, let directory = inputs[input].directory else { continue }
                // A bind mount shows the directory (less what .dockerignore leaves out) with its owners.
                let checksum = SourceChecksum(
                    tree: CopySource(root: directory, ignored: inputs[input].excludes), includesOwners: true, statCache: statCache)
                sources["mount \(mount.target)"] = try checksum.entries(under: mount.source.isEmpty ? "/" : mount.source)
            }
        default:
            break
        }
        let described = zip(vertex.inputs, inputs).map { id, state in
            StepFingerprint.Input(name: graph[id].name, number: id + 1, identity: state.cacheIdentity, resolvedImage: state.resolvedImage)
        }
        return StepFingerprint(name: vertex.name, op: vertex.op, inputs: described, sources: sources, settings: settings)
    }

    func allowsLookup(of vertex: VertexID) -> Bool {
        options.usesRecords && !options.uncachedSteps.contains(vertex)
    }

    /// Why `fingerprint` missed, first reason first.
    func missReasons(_ fingerprint: StepFingerprint, vertex: Vertex) -> [String] {
        if !options.usesRecords { return ["--no-cache"] }
        if options.uncachedSteps.contains(vertex.id) { return ["--no-cache-filter"] }
        guard let earlier = previous[StepFingerprint.slot(of: fingerprint.name)] else { return [Self.firstBuild] }
        let differences = CacheExplanation.differences(from: earlier, to: fingerprint, buildArguments: vertex.buildArguments)
        return differences.isEmpty ? ["no cache record (pruned, or the earlier run did not finish)"] : differences
    }

    /// The reason of a miss without an earlier build to compare with (`BuildSummary.firstBuild` says the same).
    static let firstBuild = "no earlier build of this step"

    /// Keeps a finished step's fingerprint for the next build's explanations.
    func remember(_ fingerprint: StepFingerprint) {
        lock.withLock { current[StepFingerprint.slot(of: fingerprint.name)] = fingerprint }
    }

    /// Saves the stat cache and this build's fingerprints (over the previous ones: a failed build still
    /// updates the steps it finished).
    func finish() {
        statCache.save()
        guard let historyPath else { return }
        let merged = lock.withLock { previous.merging(current) { $1 } }
        let steps = merged.keys.sorted().map { merged[$0]! }
        guard let data = try? JSONEncoder().encode(steps) else { return }
        try? FileManager.default.createDirectory(atPath: (historyPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: historyPath), options: .atomic)
    }
}
