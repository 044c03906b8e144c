import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnOCI

/// The directories behind `RUN --mount=type=cache`: persistent across builds, keyed by the mount's id,
/// under `cache-mounts/<sha256 of id>/<instance>`. Sharing follows BuildKit: `shared` users use one
/// directory together, `locked` users take turns, a `private` user gets an instance nobody else holds.
public struct CacheMountStore: Sendable {
    public enum Sharing: String, Sendable, CaseIterable {
        case shared, `private`, locked
    }

    /// How a new cache directory starts: its owner and mode, and optionally the contents of `seed`.
    public struct Initialisation: Sendable, Hashable {
        public var uid: UInt32
        public var gid: UInt32
        public var mode: UInt32
        public var seed: String?

        public init(uid: UInt32 = 0, gid: UInt32 = 0, mode: UInt32 = 0o755, seed: String? = nil) {
            self.uid = uid
            self.gid = gid
            self.mode = mode
            self.seed = seed
        }
    }

    /// A cache directory in use; release it when the process that mounts it is done.
    public struct Lease: Sendable {
        public let path: String
        let lock: HeldFileLock

        public func release() { lock.release() }
    }

    public let directory: String

    public init(layout: StoreLayout) {
        directory = layout.root + "/cache-mounts"
    }

    /// The directory of cache `id` for one use with `sharing`, created (and seeded) the first time.
    public func lease(id: String, sharing: Sharing, initialisation: Initialisation = Initialisation()) async throws -> Lease {
        let base = directory + "/" + Digest.sha256(of: Array(id.utf8)).encoded
        try FileSystem.createDirectory(base)
        try FileSystem.writeAtomically(Array(id.utf8), to: base + "/id")
        var instance = 0
        let lock: HeldFileLock
        switch sharing {
        case .shared:
            lock = try await HeldFileLock.acquire(path: base + "/0.lock", shared: true)
        case .locked:
            lock = try await HeldFileLock.acquire(path: base + "/0.lock", shared: false)
        case .private:
            while true {
                if let free = try HeldFileLock(path: base + "/\(instance).lock", shared: false) {
                    lock = free
                    break
                }
                instance += 1
            }
        }
        let path = base + "/\(instance)"
        do {
            try FileLock.withLock(at: base + "/create.lock") {
                if !FileSystem.exists(path) { try create(path, initialisation) }
            }
            // The modification time of the lock file records the last use, for pruning.
            utimes(base + "/\(instance).lock", nil)
        } catch {
            lock.release()
            throw error
        }
        return Lease(path: path, lock: lock)
    }

    private func create(_ path: String, _ initialisation: Initialisation) throws {
        let staging = path + ".staging"
        try FileSystem.remove(staging)
        try FileSystem.createDirectory(staging)
        if let seed = initialisation.seed {
            try TreeCopy.copyContents(of: seed, to: staging)
        } else {
            guard chown(staging, initialisation.uid, initialisation.gid) == 0 else { throw StoreError.system("chown", staging) }
            guard chmod(staging, mode_t(initialisation.mode)) == 0 else { throw StoreError.system("chmod", staging) }
        }
        guard rename(staging, path) == 0 else { throw StoreError.system("rename", staging) }
    }
}

extension CacheMountStore {
    /// A `RUN --mount=type=cache` directory as `kiln cache ls` shows it.
    public struct Entry: Sendable {
        public var id: String
        public var path: String
        public var size: Int64
        public var lastUsed: Date
    }

    /// Every cache mount with its size on disk and last use.
    public func entries() -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { name in
            let base = directory + "/" + name
            guard let id = try? FileSystem.read(base + "/id") else { return nil }
            var lastUsed = Date.distantPast
            var info = stat()
            for file in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where file.hasSuffix(".lock") {
                if stat(base + "/" + file, &info) == 0 {
                    lastUsed = max(lastUsed, Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)))
                }
            }
            return Entry(id: String(decoding: id, as: UTF8.self), path: base, size: FileSystem.diskUsage(base), lastUsed: lastUsed)
        }
    }

    /// Removes a cache mount unless a build is using it; returns whether it was removed.
    public func remove(_ entry: Entry) throws -> Bool {
        var held: [HeldFileLock] = []
        defer { for lock in held { lock.release() } }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: entry.path)) ?? [] where file.hasSuffix(".lock") && file != "create.lock" {
            guard let lock = try HeldFileLock(path: entry.path + "/" + file, shared: false) else { return false }
            held.append(lock)
        }
        try FileSystem.remove(entry.path)
        return true
    }
}

extension CacheMountStore {
    /// The directory of cache mount `id` as builds last left it (its first instance), if it exists.
    public func contents(of id: String) -> String? {
        let path = directory + "/" + Digest.sha256(of: Array(id.utf8)).encoded + "/0"
        return FileSystem.exists(path) ? path : nil
    }

    /// Creates cache mount `id` filled by `fill` (given an empty directory), unless it exists already: an
    /// imported cache never overwrites the local one. Returns whether it was created.
    @discardableResult
    public func create(_ id: String, fill: (String) throws -> Void) throws -> Bool {
        let base = directory + "/" + Digest.sha256(of: Array(id.utf8)).encoded
        try FileSystem.createDirectory(base)
        try FileSystem.writeAtomically(Array(id.utf8), to: base + "/id")
        return try FileLock.withLock(at: base + "/create.lock") {
            let path = base + "/0"
            guard !FileSystem.exists(path) else { return false }
            let staging = path + ".staging"
            try FileSystem.remove(staging)
            try FileSystem.createDirectory(staging)
            do {
                try fill(staging)
            } catch {
                try? FileSystem.remove(staging)
                throw error
            }
            guard rename(staging, path) == 0 else { throw StoreError.system("rename", staging) }
            return true
        }
    }
}
