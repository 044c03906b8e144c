import KilnOCI

/// An error talking to a registry, in words a user can act on.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        public static let unauthorized = Code("unauthorized")
        public static let denied = Code("denied")
        public static let manifestUnknown = Code("manifest unknown")
        public static let blobUnknown = Code("blob unknown")
        public static let digestMismatch = Code("digest mismatch")
        public static let noMatchingPlatform = Code("no matching platform")
        public static let unexpectedResponse = Code("unexpected response")
        public static let transport = Code("transport")
        /// Nothing listens at the registry's address (connection refused): retrying will not help.
        public static let unreachable = Code("unreachable")
        public static let invalidReference = Code("invalid reference")

        public var description: String { name }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
