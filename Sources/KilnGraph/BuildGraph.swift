import Foundation
import KilnOCI

/// A directed acyclic graph of build ops, kept in topological order (inputs always precede users).
///
/// Adding an op that is identical (same op, same inputs) to an existing vertex returns the existing
/// vertex, so identical work appears once.
public struct BuildGraph: Sendable {
    public private(set) var vertices: [Vertex] = []
    private var byDigest: [Digest: VertexID] = [:]

    public init() {}

    /// Adds `op` reading `inputs`, or returns the identical vertex already present.
    @discardableResult
    public mutating func add(
        _ op: Op, inputs: [VertexID] = [], name: String, sourceRanges: [SourceRange] = [], buildArguments: [String] = []
    ) -> VertexID {
        precondition(inputs.allSatisfy { $0 < vertices.count }, "inputs must already be in the graph")
        let digest = Self.digest(of: op, inputs: inputs.map { vertices[$0].digest })
        if let existing = byDigest[digest] {
            vertices[existing].sourceRanges.append(contentsOf: sourceRanges.filter { !vertices[existing].sourceRanges.contains($0) })
            return existing
        }
        let id = vertices.count
        vertices.append(Vertex(id: id, op: op, inputs: inputs, digest: digest, name: name, sourceRanges: sourceRanges, buildArguments: buildArguments))
        byDigest[digest] = id
        return id
    }

    public subscript(id: VertexID) -> Vertex { vertices[id] }

    /// The vertices `root` depends on, including itself, in topological order.
    public func closure(of roots: [VertexID]) -> [VertexID] {
        var needed = Set<VertexID>()
        var stack = roots
        while let id = stack.popLast() {
            guard needed.insert(id).inserted else { continue }
            stack.append(contentsOf: vertices[id].inputs)
        }
        return needed.sorted()
    }

    /// The digest of an op with the digests of its inputs: SHA-256 of canonical JSON (sorted keys).
    public static func digest(of op: Op, inputs: [Digest]) -> Digest {
        struct Definition: Encodable {
            let op: Op
            let inputs: [Digest]
        }
        // Encoding these plain value types cannot fail.
        let data = (try? CanonicalJSON.encode(Definition(op: op, inputs: inputs))) ?? Data()
        return Digest.sha256(of: data)
    }
}
