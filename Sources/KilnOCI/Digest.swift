import Crypto

/// A content digest `algorithm:hex`, validated on creation.
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests
public struct Digest: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// The algorithm, e.g. `sha256`.
    public let algorithm: String
    /// The lower-case hex encoding of the hash.
    public let encoded: String

    /// Errors when parsing a digest string.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case missingAlgorithm(String)
        case unsupportedAlgorithm(String)
        case invalidEncoding(String)

        public var description: String {
            switch self {
            case .missingAlgorithm(let text): return "invalid digest \"\(text)\": missing algorithm"
            case .unsupportedAlgorithm(let text): return "invalid digest \"\(text)\": unsupported algorithm"
            case .invalidEncoding(let text): return "invalid digest \"\(text)\": invalid encoding"
            }
        }
    }

    private static let hexLengths = ["sha256": 64, "sha384": 96, "sha512": 128]

    /// Parses `sha256:…` (also sha384 and sha512).
    public init(parsing text: String) throws(ParseError) {
        guard let colon = text.firstIndex(of: ":") else { throw .missingAlgorithm(text) }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        guard let length = Self.hexLengths[algorithm] else { throw .unsupportedAlgorithm(text) }
        guard encoded.utf8.count == length, encoded.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { throw .invalidEncoding(text) }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    private init(algorithm: String, encoded: String) {
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The SHA-256 digest of `bytes`.
    public static func sha256(of bytes: some Sequence<UInt8>) -> Digest {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return Digest(sha256: hasher.finalize())
    }

    /// The SHA-256 digest of the UTF-8 bytes of `text`.
    public static func sha256(of text: String) -> Digest {
        sha256(of: Array(text.utf8))
    }

    /// Wraps a finished SHA-256 hash.
    public init(sha256 hash: SHA256.Digest) {
        self.init(algorithm: "sha256", encoded: hash.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined())
    }

    public var description: String { "\(algorithm):\(encoded)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
