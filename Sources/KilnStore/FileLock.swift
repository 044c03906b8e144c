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

/// A `flock` held until ``release()`` (or until the process dies), for locks that span an `await`.
public final class HeldFileLock: @unchecked Sendable {
    private var descriptor: Int32

    /// Takes the lock at `path` if it is free right now; nil when another holder has it.
    public init?(path: String, shared: Bool) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.system("open", path) }
        while flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(descriptor)
            if code == EWOULDBLOCK { return nil }
            throw StoreError.system("flock", path, errno: code)
        }
        self.descriptor = descriptor
    }

    /// Waits (without blocking a thread) until the lock at `path` is free, then takes it.
    public static func acquire(path: String, shared: Bool) async throws -> HeldFileLock {
        while true {
            if let lock = try HeldFileLock(path: path, shared: shared) { return lock }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
