import Foundation
import KilnGraph
import KilnOCI

/// What a step's cache key is made of: the op's definition, what its inputs are (the chain of layer
/// diffIDs, so a rebuilt parent with the same result still hits), the content checksums of the files it
/// reads from directory sources, and the build settings that change layer bytes. Kept with every build,
/// so that the next build can name the first difference when a step misses.
public struct StepFingerprint: Sendable, Codable, Equatable {
    public struct Input: Sendable, Codable, Equatable {
        /// The input step's name and number (`#6`), for explanations.
        public var name: String
        public var number: Int
        public var identity: String
        /// For a base image: `reference@digest` it resolved to.
        public var resolvedImage: String?
    }

    public var name: String
    public var op: Op
    public var inputs: [Input]
    /// Per source read from a directory (`COPY source 1`, `mount /src`): the digest of its entries.
    public var sourceDigests: [String: Digest]
    /// The entries themselves (relative path → `kind mode owner content`), left out for very large sources.
    public var sourceEntries: [String: [String: String]]
    /// Layer compression and `SOURCE_DATE_EPOCH`: they change a new layer's bytes.
    public var settings: String
    public private(set) var key: Digest

    /// Sources with more entries than this keep only their digest in the build history.
    static let entryLimit = 20_000

    init(name: String, op: Op, inputs: [Input], sources: [String: [String: String]], settings: String) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.sourceDigests = sources.mapValues { SourceChecksum.digest(of: $0) }
        self.sourceEntries = sources.filter { $0.value.count <= Self.entryLimit }
        self.settings = settings
        self.key = Self.key(op: op, inputs: inputs.map(\.identity), sources: sourceDigests, settings: settings)
    }

    static func key(op: Op, inputs: [String], sources: [String: Digest], settings: String) -> Digest {
        struct Definition: Encodable {
            let version = "kiln-cache-v1"
            let op: Op
            let inputs: [String]
            let sources: [String: Digest]
            let settings: String
        }
        let data = (try? CanonicalJSON.encode(Definition(op: op, inputs: inputs, sources: sources, settings: settings))) ?? Data()
        return Digest.sha256(of: data)
    }

    /// Which earlier step this one is compared with: its stage and position (`[builder 3`), so an edited
    /// command is compared with what stood there before; steps without a position go by name.
    public static func slot(of name: String) -> String {
        guard name.hasPrefix("["), let close = name.firstIndex(of: "]"), let slash = name[..<close].lastIndex(of: "/") else { return name }
        return String(name[..<slash])
    }
}
