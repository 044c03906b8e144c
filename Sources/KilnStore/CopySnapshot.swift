import CKilnLinux
#if canImport(Glibc)
import Glibc
#endif

/// The snapshotter for machines where overlayfs cannot be mounted (an old or locked-down kernel, a store on a
/// file system overlayfs refuses as upper directory, kiln inside a container): the merged lower layers are
/// copied into a plain directory, the step changes that, and the difference becomes an upper directory in
/// overlayfs's format (whiteouts as 0:0 character devices), so layers are made the same way either way.
/// An entry nothing touched since the copy (its change time is older than the copy's end) is unchanged;
/// any other is compared as containerd does: owner, mode, size, times to the nanosecond, link target,
/// device number and extended attributes, and the contents when the times carry no nanoseconds (as
/// everything unpacked from a tar).
public enum CopySnapshot {
    /// Copies the merged tree of `stack` into the empty directory `target`, hard links within a layer kept,
    /// and returns when the copy was complete (for ``diff(_:against:into:copiedBefore:)``).
    @discardableResult
    public static func materialize(_ stack: LayerStack, into target: String) throws -> timespec {
        var links: [EntryCopy.FileID: String] = [:]
        try copyTree(stack, stack.root, to: target, links: &links)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &now)
        return now
    }

    /// Writes into the empty directory `upper` what differs in `tree` from the merged tree of `stack`:
    /// new and changed entries (with their parent directories), and a whiteout for each removed one.
    /// `copiedBefore` is what ``materialize(_:into:)`` returned when it made `tree`, if it did.
    public static func diff(_ tree: String, against stack: LayerStack, into upper: String, copiedBefore: timespec? = nil) throws {
        var writer = UpperWriter(tree: tree, upper: upper)
        let context = Comparison(stack: stack, copiedBefore: copiedBefore)
        try compare(directory: "", lower: stack.root, context: context, writer: &writer)
        try writer.finish()
    }

    private struct Comparison {
        let stack: LayerStack
        let copiedBefore: timespec?

        /// Whether the tree's entry cannot have changed since it was copied: the kernel sets the change time
        /// on every write, chmod, chown, utimes, link and rename, and nobody can set it back.
        func untouched(_ info: stat) -> Bool {
            guard let copiedBefore else { return false }
            return (info.st_ctim.tv_sec, info.st_ctim.tv_nsec) < (copiedBefore.tv_sec, copiedBefore.tv_nsec)
        }
    }

    private static func copyTree(_ stack: LayerStack, _ directory: LayerStack.Directory, to target: String, links: inout [EntryCopy.FileID: String]) throws {
        for entry in stack.entries(of: directory) {
            let destination = target + "/" + entry.name
            try EntryCopy.copy(entry.path, info: entry.info, to: destination, links: &links)
            if let child = entry.directory {
                try copyTree(stack, child, to: destination, links: &links)
                try EntryCopy.copyTimes(entry.info, to: destination)
            }
        }
    }

    /// Compares the directory `directory` (relative, "" for the root) of `tree` with the merged `lower`.
    private static func compare(directory: String, lower: LayerStack.Directory, context: Comparison, writer: inout UpperWriter) throws {
        let lowerEntries = Dictionary(uniqueKeysWithValues: context.stack.entries(of: lower).map { ($0.name, $0) })
        let hostDirectory = directory.isEmpty ? writer.tree : writer.tree + "/" + directory
        let names = LayerStack.names(in: hostDirectory).sorted()
        let present = Set(names)
        for name in lowerEntries.keys.sorted() where !present.contains(name) {
            try writer.whiteout(join(directory, name))
        }
        for name in names {
            let relative = join(directory, name)
            var info = stat()
            guard lstat(writer.tree + "/" + relative, &info) == 0 else { throw StoreError.system("lstat", writer.tree + "/" + relative) }
            guard let before = lowerEntries[name] else {
                try writer.add(relative, info: info)
                continue
            }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            let path = writer.tree + "/" + relative
            let unchanged = { context.untouched(info) || same(path, info, before.path, before.info) }
            if isDirectory, let lowerDirectory = before.directory {
                if !unchanged() { try writer.ensureDirectory(relative) }
                try compare(directory: relative, lower: lowerDirectory, context: context, writer: &writer)
            } else if isDirectory || before.directory != nil || !unchanged() {
                try writer.add(relative, info: info)
            }
        }
    }

    /// Whether two entries of the same type are the same, as containerd's differ decides it.
    static func same(_ path: String, _ info: stat, _ otherPath: String, _ other: stat) -> Bool {
        guard info.st_mode == other.st_mode, info.st_uid == other.st_uid, info.st_gid == other.st_gid, info.st_rdev == other.st_rdev,
            info.st_mtim.tv_sec == other.st_mtim.tv_sec, info.st_mtim.tv_nsec == other.st_mtim.tv_nsec
        else { return false }
        let type = info.st_mode & S_IFMT
        if type != S_IFDIR && info.st_size != other.st_size { return false }
        guard ExtendedAttributes.copied(from: path).elementsEqual(ExtendedAttributes.copied(from: otherPath), by: { $0.name == $1.name && $0.value == $1.value })
        else { return false }
        switch type {
        case S_IFLNK:
            return linkTarget(path) == linkTarget(otherPath)
        case S_IFREG where info.st_mtim.tv_nsec == 0:
            return sameContents(path, otherPath)  // a time without nanoseconds may hide a change
        default:
            return true
        }
    }

    private static func linkTarget(_ path: String) -> [CChar]? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count)
        return length < 0 ? nil : Array(buffer[0..<length])
    }

    private static func sameContents(_ path: String, _ otherPath: String) -> Bool {
        let first = open(path, O_RDONLY | O_CLOEXEC), second = open(otherPath, O_RDONLY | O_CLOEXEC)
        defer {
            if first >= 0 { close(first) }
            if second >= 0 { close(second) }
        }
        guard first >= 0, second >= 0 else { return false }
        var left = [UInt8](repeating: 0, count: 1 << 16), right = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = left.withUnsafeMutableBytes { read(first, $0.baseAddress, $0.count) }
            guard count >= 0 else { return false }
            var filled = 0
            while filled < count {
                let got = right[filled..<count].withUnsafeMutableBytes { read(second, $0.baseAddress, $0.count) }
                guard got > 0 else { return false }
                filled += got
            }
            if count == 0 {
                return right.withUnsafeMutableBytes { read(second, $0.baseAddress, 1) } == 0
            }
            if left[0..<count] != right[0..<count] { return false }
        }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }
}

/// Builds an upper directory: copied entries, whiteouts, and the parent directories they need (with the
/// tree's metadata, as overlayfs copies a directory up), directory times set last.
private struct UpperWriter {
    let tree: String
    let upper: String
    private var directories: Set<String> = [""]
    private var created: [String] = []
    private var links: [EntryCopy.FileID: String] = [:]

    init(tree: String, upper: String) {
        self.tree = tree
        self.upper = upper
    }

    /// Copies the entry `relative` of the tree (a whole subtree for a directory).
    mutating func add(_ relative: String, info: stat) throws {
        try ensureDirectory(parent(of: relative))
        try copy(relative, info: info)
    }

    /// Records that `relative` no longer exists.
    mutating func whiteout(_ relative: String) throws {
        try ensureDirectory(parent(of: relative))
        let path = upper + "/" + relative
        guard mknod(path, S_IFCHR | 0o000, 0) == 0 else { throw StoreError.system("mknod whiteout", path) }
    }

    /// Makes `relative` (and its parents) a directory of the upper directory, with the tree's metadata.
    mutating func ensureDirectory(_ relative: String) throws {
        guard !directories.contains(relative) else { return }
        try ensureDirectory(parent(of: relative))
        var info = stat()
        guard lstat(tree + "/" + relative, &info) == 0 else { throw StoreError.system("lstat", tree + "/" + relative) }
        try EntryCopy.copy(tree + "/" + relative, info: info, to: upper + "/" + relative, links: &links)
        directories.insert(relative)
        created.append(relative)
    }

    /// Sets the times of the directories, deepest first, now that their contents are written.
    func finish() throws {
        for relative in created.reversed() + [""] {
            var info = stat()
            guard lstat(relative.isEmpty ? tree : tree + "/" + relative, &info) == 0 else { continue }
            try EntryCopy.copyTimes(info, to: relative.isEmpty ? upper : upper + "/" + relative)
        }
    }

    private mutating func copy(_ relative: String, info: stat) throws {
        let source = tree + "/" + relative
        try EntryCopy.copy(source, info: info, to: upper + "/" + relative, links: &links)
        guard info.st_mode & S_IFMT == S_IFDIR else { return }
        directories.insert(relative)
        for name in LayerStack.names(in: source).sorted() {
            var child = stat()
            guard lstat(source + "/" + name, &child) == 0 else { throw StoreError.system("lstat", source + "/" + name) }
            try copy(relative + "/" + name, info: child)
        }
        try EntryCopy.copyTimes(info, to: upper + "/" + relative)
    }

    private func parent(of relative: String) -> String {
        guard let slash = relative.lastIndex(of: "/") else { return "" }
        return String(relative[..<slash])
    }
}
