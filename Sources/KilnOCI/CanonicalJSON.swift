import Foundation

/// JSON encoding with a stable byte form (sorted keys, unescaped slashes), so equal values always hash to the
/// same digest.
public enum CanonicalJSON {
    /// Encodes `value` canonically.
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Encodes `value` canonically and returns the bytes with their digest.
    public static func encodeWithDigest(_ value: some Encodable) throws -> (data: Data, digest: Digest) {
        let data = try encode(value)
        return (data, Digest.sha256(of: data))
    }

    /// Decodes JSON into `type`.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}
