#if canImport(Glibc)
import Glibc
#endif
import KilnOCI

/// An error of the image store, with what it concerns (a digest, a path, a reference).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; callers branch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case notFound, digestMismatch, sizeMismatch, corrupt, invalidReference, inUse, io, unsupported
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A blob, image, tag or snapshot that does not exist.
        public static let notFound = Code(.notFound)
        /// Content whose digest is not the one expected.
        public static let digestMismatch = Code(.digestMismatch)
        /// Content whose size is not the one expected.
        public static let sizeMismatch = Code(.sizeMismatch)
        /// Store metadata or content that cannot be read as what it should be.
        public static let corrupt = Code(.corrupt)
        /// An image reference that cannot be parsed.
        public static let invalidReference = Code(.invalidReference)
        /// Something still referenced (an image used by a tag, a snapshot in use).
        public static let inUse = Code(.inUse)
        /// A file-system operation that failed.
        public static let io = Code(.io)
        /// A format or feature kiln does not handle.
        public static let unsupported = Code(.unsupported)

        public var description: String { wrapped.rawValue }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// A failed system call on `path`.
    static func system(_ call: String, _ path: String, errno code: Int32 = errno) -> StoreError {
        StoreError(.io, "\(call) \(path): \(String(cString: strerror(code)))")
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
