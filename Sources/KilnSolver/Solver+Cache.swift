import Foundation
import KilnGraph
import KilnOCI
import KilnStore

extension Solver {
    /// Runs a RUN or file step through the cache: a recorded result is reused without running anything;
    /// otherwise the step runs, its result is recorded, and the miss is reported with its reasons.
    func cached(
        _ vertex: Vertex, inputs: [FileSystemState], base: FileSystemState, graph: BuildGraph, session: BuildSession, cache: BuildCache,
        run: () async throws -> FileSystemState
    ) async throws -> FileSystemState {
        let settings = "\(options.compression)\(options.compressionLevel.map { ":\($0)" } ?? "") \(options.sourceDateEpoch.map(String.init) ?? "-")"
        let fingerprint = try cache.fingerprint(of: vertex, inputs: inputs, graph: graph, settings: settings)
        if cache.allowsLookup(of: vertex.id), let record = cache.records.record(for: fingerprint.key),
           var state = try? restore(record, on: base, session: session) {
            state.cacheKey = fingerprint.key
            cache.records.touch(fingerprint.key)
            cache.remember(fingerprint)
            progress(.cached(vertex.id))
            return state
        }
        progress(.cacheMiss(vertex.id, reasons: cache.missReasons(fingerprint, vertex: vertex)))
        var state = try await run()
        state.cacheKey = fingerprint.key
        let layer = state.addedLayer
        try cache.records.save(CacheRecord(
            key: fingerprint.key, layer: layer?.descriptor, diffID: layer?.diffID, uncompressedSize: layer?.uncompressedSize ?? 0,
            step: vertex.name))
        cache.remember(fingerprint)
        return state
    }

    /// The state a cache record stands for: its layer on top of `base`, unpacked again if the snapshot is gone.
    private func restore(_ record: CacheRecord, on base: FileSystemState, session: BuildSession) throws -> FileSystemState {
        guard let descriptor = record.layer, let diffID = record.diffID else { return base.adding(nil) }
        if !snapshots.exists(diffID) {
            guard try snapshots.prepare(layer: descriptor) == diffID else { throw SolveError(step: record.step, message: "cached layer \(descriptor.digest) does not match its record") }
        }
        try session.hold(diffID, in: snapshots)
        return base.adding(StateLayer(descriptor: descriptor, diffID: diffID, uncompressedSize: record.uncompressedSize, snapshot: snapshots.rootfs(for: diffID)))
    }
}
