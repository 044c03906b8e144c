import Foundation
import KilnGraph

/// What the solver reports while it works, for the progress display and the summary.
public enum ProgressEvent: Sendable {
    /// A step started.
    case started(VertexID, name: String)
    /// Output of a running step.
    case output(VertexID, [UInt8])
    /// A progress message of a step (pulling, unpacking).
    case status(VertexID, String)
    /// A step's result came from the cache; it did not run.
    case cached(VertexID)
    /// A step was not in the cache: why, most telling difference first.
    case cacheMiss(VertexID, reasons: [String])
    /// A step finished; `layerSize` is the uncompressed size of the layer it added (nil for none).
    case finished(VertexID, duration: TimeInterval, layerSize: Int64?)
    /// A step failed.
    case failed(VertexID, duration: TimeInterval, message: String)
}

/// Receives progress events; called from many tasks at once.
public typealias ProgressHandler = @Sendable (ProgressEvent) -> Void
