import KilnGraph
import KilnOCI

/// A layer of a filesystem state: the stored blob, its diffID and the unpacked snapshot directory.
public struct StateLayer: Sendable, Hashable {
    public var descriptor: Descriptor
    public var diffID: Digest
    public var uncompressedSize: Int64
    /// The snapshot's root directory (overlay whiteouts kept), usable as an overlayfs lower directory.
    public var snapshot: String

    public init(descriptor: Descriptor, diffID: Digest, uncompressedSize: Int64, snapshot: String) {
        self.descriptor = descriptor
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.snapshot = snapshot
    }
}

/// What a vertex produced: a stack of layers (images, RUN, COPY), or a plain directory (the build
/// context, a download, a git checkout) that only serves as a source for copies and bind mounts.
public struct FileSystemState: Sendable {
    /// Bottom layer first.
    public var layers: [StateLayer]
    /// For every step that records a layer in the image history, whether it produced one: an unchanged
    /// RUN or COPY makes no layer, and its history entry becomes `empty_layer` (as in BuildKit's exporter).
    public var layerSlots: [Bool]
    /// A directory source instead of layers.
    public var directory: String?
    /// Files of `directory` to treat as absent (`.dockerignore`).
    public var excludes: PathPatternMatcher?
    /// The cache key of the step that produced this state (RUN and file steps).
    public var cacheKey: Digest?
    /// For a base image: `reference@manifest-digest`, what the reference resolved to.
    public var resolvedImage: String?

    public init(layers: [StateLayer] = [], layerSlots: [Bool] = []) {
        self.layers = layers
        self.layerSlots = layerSlots
    }

    public init(directory: String, excludes: PathPatternMatcher? = nil) {
        self.layers = []
        self.layerSlots = []
        self.directory = directory
        self.excludes = excludes
    }

    public static let empty = FileSystemState()

    /// Lower directories for overlayfs, topmost first.
    public var lowers: [String] { layers.reversed().map(\.snapshot) }

    /// The sum of the layers' uncompressed sizes (what `docker images` calls the size).
    public var size: Int64 { layers.reduce(0) { $0 + $1.uncompressedSize } }

    /// The layer the last step added, if it added one (RUN and file steps; nil for images and directories).
    public var addedLayer: StateLayer? { cacheKey != nil && layerSlots.last == true ? layers.last : nil }

    /// What the cache knows this state by: the chain of its layers' diffIDs (equal chains are equal
    /// filesystems), or `directory` for a directory source, whose files a step's key covers one by one.
    var cacheIdentity: String {
        if directory != nil { return "directory" }
        var chain = "scratch"
        for layer in layers { chain = Digest.sha256(of: chain + " " + layer.diffID.description).description }
        return chain
    }

    /// This state with one more step on top (`layer` nil when the step changed nothing).
    func adding(_ layer: StateLayer?) -> FileSystemState {
        var next = FileSystemState(layers: layers, layerSlots: layerSlots + [layer != nil])
        if let layer { next.layers.append(layer) }
        return next
    }
}
