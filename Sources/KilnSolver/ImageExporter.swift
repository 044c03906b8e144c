import Foundation
import KilnOCI
import KilnStore

/// Turns a solved stage into an image: the config with its history matched to the layers that were
/// really produced, the layers in OCI media types, committed to the store and tagged.
public enum ImageExporter {
    /// The final image config of `config` (from lowering) over the layers of `state`.
    ///
    /// A step that changed nothing produced no layer: its history entry becomes `empty_layer`, as
    /// BuildKit's exporter does, so history and `rootfs.diff_ids` always agree.
    public static func finalConfig(_ config: ImageConfig, state: FileSystemState, created: Date, labels: [String: String] = [:]) throws -> ImageConfig {
        var result = config
        let timestamp = Timestamp.rfc3339(created)
        var slots = state.layerSlots[...]
        for index in result.history.indices where result.history[index].emptyLayer != true {
            guard let produced = slots.popFirst() else {
                throw SolveError(step: "export", message: "image history names more layers than the build produced")
            }
            if !produced {
                result.history[index].emptyLayer = true
                result.history[index].comment = nil
            }
        }
        // Base images whose history lists fewer layers than they have (imports, hand-made images).
        if !slots.isEmpty {
            let entries = slots.filter { $0 }.map { _ in History(createdBy: "", comment: "layer without history") }
            result.history.insert(contentsOf: entries, at: 0)
        }
        for index in result.history.indices where result.history[index].created == nil {
            result.history[index].created = timestamp
        }
        result.rootfs = RootFS(diffIDs: state.layers.map(\.diffID))
        result.created = timestamp
        if !labels.isEmpty {
            var merged = result.config.labels ?? [:]
            for (key, value) in labels { merged[key] = value }
            result.config.labels = merged
        }
        return result
    }

    /// Layer descriptors in OCI media types (docker's are the same bytes under other names).
    public static func ociLayers(of state: FileSystemState) -> [Descriptor] {
        state.layers.map { layer in
            var descriptor = layer.descriptor
            switch descriptor.mediaType {
            case .dockerLayerGzip: descriptor.mediaType = .ociLayerGzip
            case .dockerLayer: descriptor.mediaType = .ociLayer
            default: break
            }
            descriptor.annotations = nil
            descriptor.platform = nil
            return descriptor
        }
    }

    /// Commits the image to the store; tagged with `tags`, or kept untagged (like `docker build` without `-t`).
    /// A platform's image of a multi-platform build (`partOfIndex`) is neither: the index that lists it is.
    @discardableResult
    public static func commit(
        config: ImageConfig, state: FileSystemState, tags: [ImageReference], partOfIndex: Bool = false, to store: LayoutStore
    ) throws -> StoredImage {
        let image = try store.commitImage(config: config, layers: ociLayers(of: state), tags: partOfIndex ? [] : tags)
        if tags.isEmpty && !partOfIndex { try store.addUntagged(image.descriptor) }
        return image
    }
}
