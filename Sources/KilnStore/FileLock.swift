#if canImport(Glibc)
import Glibc
#endif

/// An exclusive advisory lock on a file (`flock`), shared by every kiln process using the same store.
/// The lock is released when the body returns or throws, or when the process dies.
public enum FileLock {
    /// Runs `body` while holding the lock file at `path` (created if missing).
    public static func withLock<T>(at path: String, shared: Bool = false, _ body: () throws -> T) throws -> T {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.system("open", path) }
        defer { close(descriptor) }
        while flock(descriptor, shared ? LOCK_SH : LOCK_EX) != 0 {
            guard errno == EINTR else { throw StoreError.system("flock", path) }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
