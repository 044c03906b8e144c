import KilnOCI

/// The position of a vertex in its ``BuildGraph``.
public typealias VertexID = Int

/// A node of the build graph: an op, the vertices it reads, and where in the source it came from.
public struct Vertex: Sendable, Hashable {
    public let id: VertexID
    public let op: Op
    public let inputs: [VertexID]
    /// A content digest of the op and, recursively, of its inputs: equal digests mean equal work.
    public let digest: Digest
    /// A human-readable label (`[builder 3/5] RUN make`).
    public var name: String
    /// The source lines that produced this vertex (BuildKit's source map).
    public var sourceRanges: [SourceRange]
    /// Names of the build args in the op's environment (as opposed to ENV), for cache-miss explanations.
    public var buildArguments: [String] = []
}
