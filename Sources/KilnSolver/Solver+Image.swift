import Foundation
import KilnGraph
import KilnOCI
import KilnRegistry
import KilnStore

extension Solver {
    /// The layers of a base image: from the store, else (or with `--pull`) pulled; unpacked into snapshots.
    func resolveImage(_ source: ImageSource, vertex: Vertex, session: BuildSession) async throws -> FileSystemState {
        let image = try await BaseImages(store: store, registry: registry, alwaysPull: options.alwaysPull)
            .image(source.reference, platform: source.platform) { message in progress(.status(vertex.id, message)) }
        var state = FileSystemState()
        state.resolvedImage = "\(source.reference)@\(image.manifestDescriptor.digest)"
        // Layers unpack into separate snapshots, so they unpack at the same time (and each is hashed
        // for its diffID in the same pass).
        let snapshots = self.snapshots
        let diffIDs = try await withThrowingTaskGroup(of: (Int, Digest).self) { group in
            for (index, layer) in image.manifest.layers.enumerated() {
                if let info = store.knownLayerInfo(layer.digest), snapshots.exists(info.diffID) {
                    group.addTask { (index, info.diffID) }
                    continue
                }
                progress(.status(vertex.id, "unpacking \(layer.digest)"))
                group.addTask { (index, try await Self.blocking { try snapshots.prepare(layer: layer) }) }
            }
            var result = [Digest?](repeating: nil, count: image.manifest.layers.count)
            for try await (index, diffID) in group { result[index] = diffID }
            return result.compactMap { $0 }
        }
        for (layer, diffID) in zip(image.manifest.layers, diffIDs) {
            try session.hold(diffID, in: snapshots)
            let info = try store.layerInfo(layer.digest)
            state.layers.append(StateLayer(descriptor: layer, diffID: diffID, uncompressedSize: info.uncompressedSize, snapshot: snapshots.rootfs(for: diffID)))
            state.layerSlots.append(true)
        }
        return state
    }
}

extension Solver {
    /// Runs blocking file-system work on a dispatch queue, leaving the concurrency pool's few threads free.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingWork.run(work)
    }
}

/// Finds base images in the store or pulls them: what FROM and `--from=<image>` need, before lowering
/// (for the image's config) and while solving (for its layers).
public struct BaseImages: Sendable {
    public let store: LayoutStore
    public let registry: RegistryClient?
    public let alwaysPull: Bool

    public init(store: LayoutStore, registry: RegistryClient?, alwaysPull: Bool) {
        self.store = store
        self.registry = registry
        self.alwaysPull = alwaysPull
    }

    /// The image `reference` for `platform`; `status` hears about pulls.
    public func image(_ written: String, platform: Platform, status: @Sendable (String) -> Void = { _ in }) async throws -> StoredImage {
        let reference = registry?.resolvingAlias(written) ?? written
        let parsed: ImageReference
        do {
            parsed = try ImageReference(parsing: reference)
        } catch {
            throw SolveError(step: "FROM \(reference)", message: "invalid reference format: \(reference)")
        }
        if !alwaysPull, let local = try? store.image(parsed.description, platform: platform) { return local }
        guard let registry else {
            throw SolveError(step: "FROM \(reference)", message: "\(parsed.familiarDescription) is not in the image store and pulling is disabled")
        }
        status("pulling \(parsed.familiarDescription)")
        do {
            return try await registry.pull(parsed, platform: platform, into: store, unpack: true)
        } catch {
            throw SolveError(step: "FROM \(reference)", message: "failed to resolve source metadata for \(parsed.familiarDescription): \(error)")
        }
    }
}
