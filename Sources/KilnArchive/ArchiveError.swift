#if canImport(Glibc)
import Glibc
#endif

/// Errors reading, writing or extracting layer archives.
public enum ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A header block whose checksum does not match, at the given byte offset.
    case invalidHeaderChecksum(offset: Int64)
    /// A header field that cannot be read (name, offset, raw text).
    case invalidHeaderField(field: String, offset: Int64)
    /// A PAX record that is malformed.
    case invalidPAXRecord(offset: Int64)
    /// The archive ends inside an entry.
    case truncated(path: String)
    /// An entry type kiln does not handle (GNU sparse files, multi-volume parts).
    case unsupportedEntryType(type: UInt8, path: String)
    /// A value that a tar header cannot hold even with PAX.
    case unrepresentable(field: String, path: String)
    /// More data written for an entry than its header declared, or less before the next entry.
    case sizeMismatch(path: String, declared: Int64, written: Int64)
    /// An entry whose path (or link) would reach outside the extraction root.
    case pathEscapesRoot(path: String)
    /// An entry kiln refuses to create (device nodes without privilege, …).
    case refused(path: String, reason: String)
    /// A system call failed while extracting or reading the filesystem.
    case systemCall(name: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidHeaderChecksum(let offset): return "invalid tar header checksum at byte \(offset)"
        case .invalidHeaderField(let field, let offset): return "invalid tar header field \(field) at byte \(offset)"
        case .invalidPAXRecord(let offset): return "invalid PAX record in header at byte \(offset)"
        case .truncated(let path): return "archive ends inside entry \(path)"
        case .unsupportedEntryType(let type, let path):
            return "unsupported tar entry type \(type < 0x80 && type >= 0x20 ? String(UnicodeScalar(type)) : "\\\(type)") for \(path)"
        case .unrepresentable(let field, let path): return "cannot store \(field) of \(path) in a tar header"
        case .sizeMismatch(let path, let declared, let written):
            return "entry \(path) declared \(declared) bytes but \(written) were written"
        case .pathEscapesRoot(let path): return "entry \(path) would be written outside the extraction root"
        case .refused(let path, let reason): return "refusing to extract \(path): \(reason)"
        case .systemCall(let name, let path, let code): return "\(name) \(path): \(String(cString: strerror(code)))"
        }
    }
}
