import CKilnLinux
#if canImport(Glibc)
import Glibc
#endif

/// Exact copies of single file system entries, as a layer needs them: contents (sharing extents where the
/// file system can), type, owner, mode (setuid included), extended attributes and times.
public enum EntryCopy {
    /// Identifies a file across hard links.
    public struct FileID: Hashable, Sendable {
        let device: UInt64
        let inode: UInt64

        public init(_ info: stat) {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    /// Copies the entry at `source` (described by `info`, from `lstat`) to the new path `target`. Directories are
    /// created empty and get their owner, mode and attributes but not their times: call ``copyTimes(_:to:)``
    /// once their contents are in. A regular file whose other link was copied before (`links`) is linked.
    public static func copy(_ source: String, info: stat, to target: String, links: inout [FileID: String]) throws {
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            guard mkdir(target, 0o700) == 0 || errno == EEXIST else { throw StoreError.system("mkdir", target) }
            try copyMetadata(from: source, info: info, to: target)
            return
        case S_IFREG:
            if info.st_nlink > 1, let first = links[FileID(info)] {
                guard link(first, target) == 0 else { throw StoreError.system("link", target) }
                return
            }
            try copyContents(of: source, to: target)
            if info.st_nlink > 1 { links[FileID(info)] = target }
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(source, &buffer, buffer.count - 1)
            guard length >= 0 else { throw StoreError.system("readlink", source) }
            buffer[length] = 0
            guard symlink(buffer, target) == 0 else { throw StoreError.system("symlink", target) }
        case S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK:
            guard mknod(target, info.st_mode, info.st_rdev) == 0 else { throw StoreError.system("mknod", target) }
        default:
            throw StoreError(.unsupported, "\(source) has an unknown file type")
        }
        try copyMetadata(from: source, info: info, to: target)
        try copyTimes(info, to: target)
    }

    /// Sets the access and modification times of `target` (not following a symlink) to those in `info`.
    public static func copyTimes(_ info: stat, to target: String) throws {
        var times = [info.st_atim, info.st_mtim]
        guard utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw StoreError.system("set times of", target) }
    }

    /// Copies the bytes of the regular file `source` into the new file `target` (mode 0600): with
    /// `copy_file_range`, which shares extents where the file system can, else by reading and writing.
    public static func copyContents(of source: String, to target: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw StoreError.system("open", source) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard output >= 0 else { throw StoreError.system("create", target) }
        defer { close(output) }
        while true {
            let copied = kiln_copy_file_range(input, output, 1 << 30)
            if copied > 0 { continue }
            if copied == 0 { return }
            if errno == EINTR { continue }
            if errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP { break }
            throw StoreError.system("copy to", target)
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count == 0 { return }
            guard count > 0 else {
                if errno == EINTR { continue }
                throw StoreError.system("read", source)
            }
            var written = 0
            while written < count {
                let result = buffer[written..<count].withUnsafeBytes { write(output, $0.baseAddress, $0.count) }
                guard result > 0 else { throw StoreError.system("write", target) }
                written += result
            }
        }
    }

    /// Owner, then mode (chown clears setuid bits), then extended attributes.
    private static func copyMetadata(from source: String, info: stat, to target: String) throws {
        guard lchown(target, info.st_uid, info.st_gid) == 0 else { throw StoreError.system("chown", target) }
        let isSymlink = info.st_mode & S_IFMT == S_IFLNK
        if !isSymlink {
            guard chmod(target, info.st_mode & 0o7777) == 0 else { throw StoreError.system("chmod", target) }
        }
        for (name, value) in ExtendedAttributes.copied(from: source) {
            // Symbolic links take only trusted.* and security.* attributes; the others cannot exist on the source either.
            if lsetxattr(target, name, value, value.count, 0) != 0 && !isSymlink { throw StoreError.system("set attribute \(name) on", target) }
        }
    }
}
