import CKilnLinux
#if canImport(Glibc)
import Glibc
#endif

/// Extracts tar entries under a root directory so that no entry can create, change or read anything outside it.
///
/// Paths are cleaned lexically (a leading `/` is dropped; a path that climbs out with `..` is refused). Parent
/// directories are resolved component by component from the root, following symlinks as if the root were `/`
/// (as `openat2(RESOLVE_IN_ROOT)` would), so `link -> /` or `up -> ..` lead back into the root, never out of it.
/// The final component is always created with `*at()` calls that do not follow symlinks. `.wh.` entries are
/// applied to what is already there, turned into overlayfs whiteouts, or kept as files (``WhiteoutHandling``).
public struct SafeExtractor: ~Copyable {
    /// What to do with `.wh.` entries.
    public enum WhiteoutHandling: Sendable {
        /// Delete what they name from what is already there (applying a layer onto its parent).
        case apply
        /// Turn them into overlayfs whiteouts (0:0 character devices, `trusted.overlay.opaque`), for a snapshot
        /// that will be an overlayfs lower directory. Needs privilege.
        case overlay
        /// Write them as ordinary files.
        case keepAsFiles
    }

    public struct Options: Sendable {
        public var whiteouts = WhiteoutHandling.apply
        /// Create device nodes; when false they are refused with an error.
        public var allowsDevices = geteuid() == 0
        /// Set owners from the archive (possible only with privilege).
        public var preservesOwners = geteuid() == 0

        public init() {}
    }

    private let rootDescriptor: Int32
    private let options: Options
    /// Paths created by this extraction (an opaque whiteout keeps them).
    private var created: Set<String> = []
    /// Directory metadata, applied at the end so that read-only directories can still be filled.
    private var directoryMetadata: [(path: String, mode: UInt32, time: TarTime)] = []

    /// Opens `root`, which must be an existing directory.
    public init(root: String, options: Options = Options()) throws {
        let descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ArchiveError.systemCall(name: "open", path: root, errno: errno) }
        self.rootDescriptor = descriptor
        self.options = options
    }

    deinit {
        close(rootDescriptor)
    }

    /// Extracts every entry of `reader`, then applies directory modes and times.
    public mutating func extractAll<Source: ByteSource>(from reader: inout TarReader<Source>) throws {
        while let entry = try reader.next() {
            try extract(entry, reader: &reader)
        }
        try finish()
    }

    /// Extracts one entry; a regular file's contents are read from `reader`.
    public mutating func extract<Source: ByteSource>(_ entry: TarEntry, reader: inout TarReader<Source>) throws {
        guard let components = Self.components(of: entry.path) else { throw ArchiveError.pathEscapesRoot(path: entry.path) }
        guard let name = components.last else { return }  // the root itself
        let parentPath = Array(components.dropLast())
        let parent = try resolveDirectory(parentPath, creating: true, for: entry.path)
        defer { close(parent.descriptor) }
        let relative = (parent.resolved + [name]).joined(separator: "/")

        if options.whiteouts != .keepAsFiles {
            switch Whiteout.meaning(of: name) {
            case .opaque:
                if options.whiteouts == .overlay {
                    guard fsetxattr(parent.descriptor, "trusted.overlay.opaque", "y", 1, 0) == 0 else {
                        throw systemError("fsetxattr trusted.overlay.opaque", entry.path)
                    }
                } else {
                    try removeChildren(of: parent.descriptor, keeping: parent.resolved.joined(separator: "/"))
                }
                return
            case .remove(let victim):
                guard !victim.isEmpty, victim != ".", victim != ".." else { throw ArchiveError.pathEscapesRoot(path: entry.path) }
                try removeItem(named: victim, in: parent.descriptor, path: entry.path)
                if options.whiteouts == .overlay {
                    guard mknodat(parent.descriptor, victim, S_IFCHR, 0) == 0 else { throw systemError("mknodat", entry.path) }
                }
                return
            case .none:
                break
            }
        }

        var existing = stat()
        let exists = fstatat(parent.descriptor, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
        if exists {
            let isDirectory = existing.st_mode & S_IFMT == S_IFDIR
            if !(isDirectory && entry.kind == .directory) {
                try removeItem(named: name, in: parent.descriptor, path: entry.path)
            }
        }
        created.insert(relative)

        switch entry.kind {
        case .directory:
            if !exists || existing.st_mode & S_IFMT != S_IFDIR {
                guard mkdirat(parent.descriptor, name, 0o700) == 0 else { throw systemError("mkdirat", entry.path) }
            }
            try setOwner(entry, parent: parent.descriptor, name: name)
            try setAttributes(entry, parent: parent.descriptor, name: name)
            directoryMetadata.append((relative, entry.mode, entry.modificationTime))
        case .regular:
            let descriptor = openat(parent.descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw systemError("openat", entry.path) }
            defer { close(descriptor) }
            while true {
                let chunk = try reader.readContents(upTo: 1 << 20)
                if chunk.isEmpty { break }
                try Self.writeAll(chunk, to: descriptor, path: entry.path)
            }
            if options.preservesOwners { guard fchown(descriptor, uid_t(entry.uid), gid_t(entry.gid)) == 0 else { throw systemError("fchown", entry.path) } }
            // chown clears set-id bits, so the mode comes after it.
            guard fchmod(descriptor, mode_t(entry.mode & 0o7777)) == 0 else { throw systemError("fchmod", entry.path) }
            try setAttributes(entry, parent: parent.descriptor, name: name)
            try setTime(entry.modificationTime, parent: parent.descriptor, name: name, path: entry.path)
        case .symlink:
            guard symlinkat(entry.linkTarget, parent.descriptor, name) == 0 else { throw systemError("symlinkat", entry.path) }
            try setOwner(entry, parent: parent.descriptor, name: name)
            try setTime(entry.modificationTime, parent: parent.descriptor, name: name, path: entry.path)
        case .hardlink:
            guard let targetComponents = Self.components(of: entry.linkTarget), let targetName = targetComponents.last else {
                throw ArchiveError.pathEscapesRoot(path: entry.path + " -> " + entry.linkTarget)
            }
            let target = try resolveDirectory(Array(targetComponents.dropLast()), creating: false, for: entry.linkTarget)
            defer { close(target.descriptor) }
            guard linkat(target.descriptor, targetName, parent.descriptor, name, 0) == 0 else { throw systemError("linkat", entry.path) }
        case .characterDevice, .blockDevice, .fifo:
            if entry.kind != .fifo && !options.allowsDevices {
                throw ArchiveError.refused(path: entry.path, reason: "device nodes need privilege")
            }
            let type: mode_t = entry.kind == .fifo ? S_IFIFO : entry.kind == .characterDevice ? S_IFCHR : S_IFBLK
            let device = Self.deviceNumber(major: entry.deviceMajor, minor: entry.deviceMinor)
            guard mknodat(parent.descriptor, name, type | mode_t(entry.mode & 0o7777), device) == 0 else {
                throw systemError("mknodat", entry.path)
            }
            try setOwner(entry, parent: parent.descriptor, name: name)
            guard fchmodat(parent.descriptor, name, mode_t(entry.mode & 0o7777), 0) == 0 else { throw systemError("fchmodat", entry.path) }
            try setTime(entry.modificationTime, parent: parent.descriptor, name: name, path: entry.path)
        }
    }

    /// Applies the deferred directory modes and times, deepest first.
    public mutating func finish() throws {
        for item in directoryMetadata.reversed() {
            let path = item.path.isEmpty ? "." : item.path
            guard fchmodat(rootDescriptor, path, mode_t(item.mode & 0o7777), 0) == 0 else { throw systemError("fchmodat", path) }
            try setTime(item.time, parent: rootDescriptor, name: path, path: path)
        }
        directoryMetadata.removeAll()
    }

    // MARK: Path resolution

    /// The cleaned components of an archive path; nil when it climbs out of the root.
    public static func components(of path: String) -> [String]? {
        var result: [String] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                guard !result.isEmpty else { return nil }
                result.removeLast()
                continue
            }
            result.append(String(component))
        }
        return result
    }

    /// Opens the directory at `components` inside the root, resolving symlinks within the root.
    /// Missing directories are created (mode 0755) when `creating`.
    private func resolveDirectory(_ components: [String], creating: Bool, for path: String) throws -> (descriptor: Int32, resolved: [String]) {
        var resolved: [String] = []
        var pending = components[...].reversed().map { $0 }
        var symlinksFollowed = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                if !resolved.isEmpty { resolved.removeLast() }
                continue
            }
            let candidate = (resolved + [component]).joined(separator: "/")
            var info = stat()
            if fstatat(rootDescriptor, candidate, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                guard errno == ENOENT, creating else { throw systemError("fstatat", path) }
                guard mkdirat(rootDescriptor, candidate, 0o755) == 0 else { throw systemError("mkdirat", path) }
                resolved.append(component)
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                resolved.append(component)
            case S_IFLNK:
                symlinksFollowed += 1
                guard symlinksFollowed <= 40 else {
                    throw ArchiveError.refused(path: path, reason: "too many levels of symbolic links")
                }
                let target = try readLink(candidate, path: path)
                if target.hasPrefix("/") { resolved = [] }
                pending.append(contentsOf: target.split(separator: "/").map(String.init).reversed())
            default:
                throw ArchiveError.refused(path: path, reason: "\(candidate) is not a directory")
            }
        }
        let descriptor = openat(rootDescriptor, resolved.isEmpty ? "." : resolved.joined(separator: "/"),
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw systemError("openat", path) }
        return (descriptor, resolved)
    }

    private func readLink(_ relative: String, path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(rootDescriptor, relative, &buffer, buffer.count - 1)
        guard count >= 0 else { throw systemError("readlinkat", path) }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Removal

    /// Removes `name` in `directory`, recursively for directories, never following symlinks.
    private func removeItem(named name: String, in directory: Int32, path: String) throws {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return }
            throw systemError("fstatat", path)
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw systemError("openat", path) }
            defer { close(child) }
            for entry in try Self.names(in: child, path: path) {
                try removeItem(named: entry, in: child, path: path + "/" + entry)
            }
            guard unlinkat(directory, name, AT_REMOVEDIR) == 0 else { throw systemError("unlinkat", path) }
        } else {
            guard unlinkat(directory, name, 0) == 0 else { throw systemError("unlinkat", path) }
        }
    }

    /// Removes what lower layers put in a directory, keeping what this extraction created.
    private func removeChildren(of directory: Int32, keeping prefix: String) throws {
        for name in try Self.names(in: directory, path: prefix) {
            let relative = prefix.isEmpty ? name : prefix + "/" + name
            if created.contains(relative) { continue }
            try removeItem(named: name, in: directory, path: relative)
        }
    }

    /// The entry names of an open directory (without `.` and `..`).
    static func names(in directory: Int32, path: String) throws -> [String] {
        let copy = dup(directory)
        guard copy >= 0, let stream = fdopendir(copy) else { throw ArchiveError.systemCall(name: "fdopendir", path: path, errno: errno) }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    // MARK: Metadata

    private func setOwner(_ entry: TarEntry, parent: Int32, name: String) throws {
        guard options.preservesOwners else { return }
        guard fchownat(parent, name, uid_t(entry.uid), gid_t(entry.gid), AT_SYMLINK_NOFOLLOW) == 0 else {
            throw systemError("fchownat", entry.path)
        }
    }

    private func setAttributes(_ entry: TarEntry, parent: Int32, name: String) throws {
        guard !entry.extendedAttributes.isEmpty else { return }
        let descriptor = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw systemError("openat", entry.path) }
        defer { close(descriptor) }
        for (key, value) in entry.extendedAttributes.sorted(by: { $0.key < $1.key }) {
            let result = value.withUnsafeBytes { fsetxattr(descriptor, key, $0.baseAddress, $0.count, 0) }
            // Attributes the filesystem or our privilege does not allow (trusted.*, security.* unprivileged) are skipped.
            if result != 0 && errno != EPERM && errno != ENOTSUP { throw systemError("fsetxattr \(key)", entry.path) }
        }
    }

    private func setTime(_ time: TarTime, parent: Int32, name: String, path: String) throws {
        var times = [
            timespec(tv_sec: Int(time.seconds), tv_nsec: Int(time.nanoseconds)),
            timespec(tv_sec: Int(time.seconds), tv_nsec: Int(time.nanoseconds)),
        ]
        guard utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw systemError("utimensat", path) }
    }

    /// glibc's `makedev`.
    static func deviceNumber(major: UInt32, minor: UInt32) -> dev_t {
        let major = UInt64(major), minor = UInt64(minor)
        return dev_t(((major & 0xFFFF_F000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFF_FF00) << 12) | (minor & 0xFF))
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.systemCall(name: "write", path: path, errno: errno)
            }
            offset += count
        }
    }

    private func systemError(_ name: String, _ path: String) -> ArchiveError {
        .systemCall(name: name, path: path, errno: errno)
    }
}
