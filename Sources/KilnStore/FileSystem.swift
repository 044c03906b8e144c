#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KilnArchive

/// Small POSIX helpers the store builds on: atomic file replacement, durable writes, directory creation.
enum FileSystem {
    /// Writes `bytes` to `path` atomically: a temp file in the same directory, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = "\(directory)/.tmp-\(UUID().uuidString)"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError.system("open", temporary) }
        do {
            try writeAll(bytes, to: descriptor, path: temporary)
            guard fsync(descriptor) == 0 else { throw StoreError.system("fsync", temporary) }
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw StoreError.system("rename", path, errno: code)
        }
        syncDirectory(directory)
    }

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        do {
            try FileByteSink.writeAll(bytes, to: descriptor, path: path)
        } catch {
            throw StoreError(.io, "cannot write \(path)", cause: error)
        }
    }

    /// Flushes a directory's entries (after a rename into it).
    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.io, "cannot create \(path)", cause: error)
        }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(.notFound, "\(path) does not exist or cannot be read")
        }
        return Array(data)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Removes a file or a whole tree; missing is fine.
    static func remove(_ path: String) throws {
        guard exists(path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw StoreError(.io, "cannot remove \(path)", cause: error)
        }
    }

    /// Bytes a tree occupies on disk (allocated blocks; hardlinked files once; symlinks not followed).
    static func diskUsage(_ path: String) -> Int64 {
        var total: Int64 = 0
        var seen = Set<[UInt64]>()
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        total += Int64(info.st_blocks) * 512
        guard info.st_mode & S_IFMT == S_IFDIR, let walker = FileManager.default.enumerator(atPath: path) else { return total }
        while let relative = walker.nextObject() as? String {
            guard lstat(path + "/" + relative, &info) == 0 else { continue }
            if info.st_nlink > 1 && info.st_mode & S_IFMT != S_IFDIR && !seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted { continue }
            total += Int64(info.st_blocks) * 512
        }
        return total
    }
}
