import CKilnLinux
#if canImport(Glibc)
import Glibc
#endif

/// Writes a directory tree as tar entries, deterministically: entries sorted by name (parents first), owner
/// names left empty, times truncated to seconds and clamped to `SOURCE_DATE_EPOCH` when given, hardlinks
/// kept, extended attributes (`security.capability`, `user.*`) carried. With `convertsOverlayWhiteouts`, the
/// tree is read as an overlayfs upper directory: `0:0` character devices become `.wh.NAME` entries and
/// directories marked opaque get a `.wh..wh..opq` entry.
public struct TreeArchiver {
    public struct Options: Sendable {
        /// Clamp modification times to this epoch (seconds), as `SOURCE_DATE_EPOCH` asks.
        public var sourceDateEpoch: Int64?
        /// Read the tree as an overlayfs upper directory.
        public var convertsOverlayWhiteouts = false
        /// Keep sub-second modification times (written as PAX records).
        public var keepsSubsecondTimes = false

        public init(sourceDateEpoch: Int64? = nil, convertsOverlayWhiteouts: Bool = false) {
            self.sourceDateEpoch = sourceDateEpoch
            self.convertsOverlayWhiteouts = convertsOverlayWhiteouts
        }
    }

    /// Extended attribute names (or prefixes) that never go into a layer.
    static let excludedAttributes = ["security.selinux", "trusted.overlay.", "user.overlay.", "system.nfs4_acl"]

    let options: Options
    private var hardlinks: [HardlinkKey: String] = [:]

    private struct HardlinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Writes the contents of `root` (not `root` itself) to `writer`. Does not finish the archive.
    public mutating func archive<Sink: ByteSink>(directory root: String, to writer: inout TarWriter<Sink>) throws {
        let descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ArchiveError.systemCall(name: "open", path: root, errno: errno) }
        defer { close(descriptor) }
        try archiveChildren(of: descriptor, prefix: "", displayRoot: root, to: &writer)
    }

    private mutating func archiveChildren<Sink: ByteSink>(
        of directory: Int32, prefix: String, displayRoot: String, to writer: inout TarWriter<Sink>
    ) throws {
        let names = try SafeExtractor.names(in: directory, path: displayRoot + "/" + prefix)
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for name in names {
            let path = prefix + name
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                throw ArchiveError.systemCall(name: "fstatat", path: path, errno: errno)
            }
            let type = info.st_mode & S_IFMT
            var entry = TarEntry(
                path: path, kind: .regular, mode: UInt32(info.st_mode & 0o7777), uid: Int(info.st_uid), gid: Int(info.st_gid),
                modificationTime: time(of: info))
            if options.convertsOverlayWhiteouts && type == S_IFCHR && info.st_rdev == 0 {
                let whiteout = TarEntry(
                    path: prefix + Whiteout.prefix + name, kind: .regular, mode: 0o644, modificationTime: entry.modificationTime)
                try writer.append(whiteout)
                continue
            }
            switch type {
            case S_IFREG:
                let key = HardlinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                if info.st_nlink > 1, let first = hardlinks[key] {
                    entry.kind = .hardlink
                    entry.linkTarget = first
                    try writer.append(entry)
                    continue
                }
                if info.st_nlink > 1 { hardlinks[key] = path }
                entry.size = Int64(info.st_size)
                entry.extendedAttributes = try attributes(of: name, in: directory, path: path)
                try writeFile(entry, name: name, in: directory, to: &writer)
            case S_IFDIR:
                entry.kind = .directory
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { throw ArchiveError.systemCall(name: "openat", path: path, errno: errno) }
                defer { close(child) }
                var attributes = try attributes(of: name, in: directory, path: path, descriptor: child)
                let opaque = options.convertsOverlayWhiteouts && isOpaque(child)
                attributes = attributes.filter { !$0.key.hasSuffix("overlay.opaque") }
                entry.extendedAttributes = attributes
                try writer.append(entry)
                if opaque {
                    try writer.append(TarEntry(path: path + "/" + Whiteout.opaqueMarker, kind: .regular, modificationTime: entry.modificationTime))
                }
                try archiveChildren(of: child, prefix: path + "/", displayRoot: displayRoot, to: &writer)
            case S_IFLNK:
                entry.kind = .symlink
                entry.linkTarget = try readLink(name, in: directory, path: path)
                try writer.append(entry)
            case S_IFCHR, S_IFBLK:
                entry.kind = type == S_IFCHR ? .characterDevice : .blockDevice
                entry.deviceMajor = Self.major(UInt64(info.st_rdev))
                entry.deviceMinor = Self.minor(UInt64(info.st_rdev))
                try writer.append(entry)
            case S_IFIFO:
                entry.kind = .fifo
                try writer.append(entry)
            default:
                continue  // sockets do not belong in images
            }
        }
    }

    private func time(of info: stat) -> TarTime {
        var time = TarTime(seconds: Int64(info.st_mtim.tv_sec), nanoseconds: options.keepsSubsecondTimes ? Int32(info.st_mtim.tv_nsec) : 0)
        if let epoch = options.sourceDateEpoch, time.seconds >= epoch && time != TarTime(seconds: epoch) {
            time = TarTime(seconds: epoch)
        }
        return time
    }

    private func writeFile<Sink: ByteSink>(_ entry: TarEntry, name: String, in directory: Int32, to writer: inout TarWriter<Sink>) throws {
        let descriptor = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw ArchiveError.systemCall(name: "openat", path: entry.path, errno: errno) }
        defer { close(descriptor) }
        try writer.beginEntry(entry)
        var remaining = entry.size
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while remaining > 0 {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, Int(min(Int64($0.count), remaining))) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.systemCall(name: "read", path: entry.path, errno: errno)
            }
            // A file that shrank while being read: the declared size can no longer be met.
            guard count > 0 else { throw ArchiveError.sizeMismatch(path: entry.path, declared: entry.size, written: entry.size - remaining) }
            try writer.writeContents(Array(buffer[0..<count]))
            remaining -= Int64(count)
        }
    }

    private func readLink(_ name: String, in directory: Int32, path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directory, name, &buffer, buffer.count - 1)
        guard count >= 0 else { throw ArchiveError.systemCall(name: "readlinkat", path: path, errno: errno) }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The extended attributes worth keeping in a layer.
    private func attributes(of name: String, in directory: Int32, path: String, descriptor: Int32? = nil) throws -> [String: [UInt8]] {
        let opened = descriptor ?? openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard opened >= 0 else { return [:] }
        defer { if descriptor == nil { close(opened) } }
        var names = [CChar](repeating: 0, count: 4096)
        let length = flistxattr(opened, &names, names.count)
        guard length > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        for raw in names[0..<length].split(separator: 0) {
            let key = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if Self.excludedAttributes.contains(where: { key == $0 || (key.hasPrefix($0) && $0.hasSuffix(".")) }) { continue }
            var value = [UInt8](repeating: 0, count: 65_536)
            let size = fgetxattr(opened, key, &value, value.count)
            if size >= 0 { result[key] = Array(value[0..<size]) }
        }
        return result
    }

    private func isOpaque(_ directory: Int32) -> Bool {
        for key in ["trusted.overlay.opaque", "user.overlay.opaque"] {
            var value = [UInt8](repeating: 0, count: 4)
            let size = fgetxattr(directory, key, &value, value.count)
            if size == 1 && value[0] == UInt8(ascii: "y") { return true }
        }
        return false
    }

    /// glibc's `major`/`minor`.
    static func major(_ device: UInt64) -> UInt32 { UInt32(((device >> 32) & 0xFFFF_F000) | ((device >> 8) & 0xFFF)) }
    static func minor(_ device: UInt64) -> UInt32 { UInt32(((device >> 12) & 0xFFFF_FF00) | (device & 0xFF)) }
}
