import CKilnLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnGraph
import KilnRuntime
import KilnStore

/// Carries out one COPY/ADD action from a source tree into a root filesystem with docker's rules
/// (BuildKit's file op): wildcards, directory contents versus the directory itself, trailing-slash
/// destinations, missing parents created, `--chown`, `--chmod`, `--exclude`, `--parents`, ADD's
/// archive unpacking. Files keep their mode, times, extended attributes and hardlinks; files from the
/// build context belong to root unless `--chown` says otherwise.
struct CopyEngine {
    struct Owner: Hashable {
        var uid: UInt32
        var gid: UInt32
    }

    /// The tree copied from.
    let sourceTree: CopySource
    /// Whether the source is a build context (owners become root).
    let resetsOwners: Bool
    let rootfs: String
    let owner: Owner?
    let mode: FileModeChange?
    private var hardlinks: [HardlinkKey: String] = [:]

    private struct HardlinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    init(sourceRoot: String, ignored: PathPatternMatcher?, resetsOwners: Bool, rootfs: String, owner: Owner?, mode: FileModeChange?) {
        self.sourceTree = CopySource(root: sourceRoot, ignored: ignored)
        self.resetsOwners = resetsOwners
        self.rootfs = rootfs
        self.owner = owner
        self.mode = mode
    }

    mutating func copy(_ action: CopyAction) throws {
        let excludes = action.excludePatterns.isEmpty ? nil : try PathPatternMatcher(action.excludePatterns)
        if action.keepParents {
            for source in action.sources {
                let pivot = Self.pivotDepth(of: source)
                for match in try sourceTree.matches(of: [source], allowEmptyWildcard: action.allowEmptyWildcard) {
                    try copyKeepingParents(match, droppingLeading: pivot, action: action, excludes: excludes)
                }
            }
            return
        }
        let matches = try sourceTree.matches(of: action)
        let destinationIsDirectory = action.destination.hasSuffix("/") || matches.count > 1
        for match in matches {
            try copyMatch(match, action: action, destinationIsDirectory: destinationIsDirectory, excludes: excludes)
        }
    }

    // MARK: Destinations

    private mutating func copyMatch(_ relative: String, action: CopyAction, destinationIsDirectory: Bool, excludes: PathPatternMatcher?) throws {
        // A symlink named as the source is followed (docker copies what it points to).
        let source = try sourceTree.matchPath(relative, followSymlinks: action.followSymlinks)
        var info = stat()
        guard lstat(source, &info) == 0 else { throw CopyError.notFound(relative, ignored: false) }
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR
        let destination = action.destination
        if action.extractArchives, info.st_mode & S_IFMT == S_IFREG, let format = ArchiveUnpacker.format(of: source) {
            let target = try destinationPath(destination)
            try makeDirectories(target)
            try ArchiveUnpacker.unpack(source, format: format, into: target, owner: owner)
            return
        }
        var target = try destinationPath(destination)
        var targetInfo = stat()
        let targetIsDirectory = stat(target, &targetInfo) == 0 && targetInfo.st_mode & S_IFMT == S_IFDIR
        if !(isDirectory && action.copyDirectoryContentsOnly) && (destinationIsDirectory || destination.hasSuffix("/") || targetIsDirectory) {
            // The name is appended to the resolved directory, not resolved itself: a symlink an earlier source
            // left there is replaced, never written through.
            let name = relative == "." ? "" : (relative as NSString).lastPathComponent
            let directory = try destinationPath(destination.hasSuffix("/") ? destination : destination + "/")
            target = name.isEmpty ? directory : directory + "/" + name
        }
        if action.createDestinationPath { try makeDirectories((target as NSString).deletingLastPathComponent) }
        try copyTree(from: source, relative: relative == "." ? "" : relative, excludeBase: "", to: target, excludes: excludes, isTop: true)
    }

    /// `COPY --parents`: the match keeps its path below the source's `/./` pivot (its whole path without
    /// one): `x/y/a.txt` goes to `DEST/x/y/a.txt`, a directory `x/y` to `DEST/x/y/` with its contents.
    private mutating func copyKeepingParents(
        _ relative: String, droppingLeading pivot: Int, action: CopyAction, excludes: PathPatternMatcher?
    ) throws {
        let source = try sourceTree.matchPath(relative, followSymlinks: action.followSymlinks)
        var info = stat()
        guard lstat(source, &info) == 0 else { throw CopyError.notFound(relative, ignored: false) }
        let components = relative == "." ? [] : relative.split(separator: "/").map(String.init)
        let kept = components.dropFirst(min(pivot, components.count)).joined(separator: "/")
        let base = action.destination.hasSuffix("/") ? action.destination : action.destination + "/"
        let directory = try destinationPath((base + kept as NSString).deletingLastPathComponent)
        let target = kept.isEmpty ? try destinationPath(base) : directory + "/" + (kept as NSString).lastPathComponent
        try makeDirectories(info.st_mode & S_IFMT == S_IFDIR ? target : (target as NSString).deletingLastPathComponent)
        try copyTree(from: source, relative: relative == "." ? "" : relative, excludeBase: "", to: target, excludes: excludes, isTop: true)
    }

    /// How many leading components of a source's matches `COPY --parents` drops: those before a `/./`.
    static func pivotDepth(of source: String) -> Int {
        guard let marker = source.range(of: "/./") else { return 0 }
        let prefix = CopySource.clean(String(source[..<marker.lowerBound]))
        return prefix == "." ? 0 : prefix.split(separator: "/").count
    }

    /// The host path of `path` inside the root filesystem (symlinks resolved within it).
    private func destinationPath(_ path: String) throws -> String {
        try RootedPath.resolve(path, in: rootfs)
    }

    /// Creates `path` and missing parents (0755, owned by the `--chown` owner or root).
    private func makeDirectories(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw CopyError("cannot copy to non-directory: \(display(path))") }
            return
        }
        try makeDirectories((path as NSString).deletingLastPathComponent)
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw CopyError.system("mkdir", display(path)) }
        let owner = owner ?? Owner(uid: 0, gid: 0)
        lchown(path, owner.uid, owner.gid)
    }

    private func display(_ hostPath: String) -> String {
        hostPath.hasPrefix(rootfs) ? String(hostPath.dropFirst(rootfs.count)) : hostPath
    }

    // MARK: Trees

    private mutating func copyTree(
        from source: String, relative: String, excludeBase: String, to target: String, excludes: PathPatternMatcher?, isTop: Bool
    ) throws {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw CopyError.system("lstat", relative) }
        let type = info.st_mode & S_IFMT
        let owner = self.owner ?? (resetsOwners ? Owner(uid: 0, gid: 0) : Owner(uid: info.st_uid, gid: info.st_gid))
        let permissions = mode?.apply(to: UInt32(info.st_mode & 0o7777), isDirectory: type == S_IFDIR) ?? UInt32(info.st_mode & 0o7777)
        var existing = stat()
        let targetExists = lstat(target, &existing) == 0
        if type == S_IFDIR {
            if targetExists && existing.st_mode & S_IFMT != S_IFDIR {
                guard unlink(target) == 0 else { throw CopyError.system("replace", display(target)) }
            }
            let created = !targetExists || existing.st_mode & S_IFMT != S_IFDIR
            if created {
                guard mkdir(target, 0o700) == 0 else { throw CopyError.system("mkdir", display(target)) }
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: source).sorted()
            for name in names {
                let childRelative = relative.isEmpty ? name : relative + "/" + name
                let excludeRelative = excludeBase.isEmpty ? name : excludeBase + "/" + name
                if sourceTree.skipsDirectory(childRelative, excludeRelative: excludeRelative, excludes: excludes) { continue }
                try copyTree(from: source + "/" + name, relative: childRelative, excludeBase: excludeRelative, to: target + "/" + name, excludes: excludes, isTop: false)
            }
            // An existing destination directory keeps its own owner and mode (BuildKit does not overwrite
            // the metadata of the copy's target directory).
            if created || !isTop { try finish(target, info: info, owner: owner, permissions: permissions, isSymlink: false) }
            return
        }
        if !isTop, sourceTree.skipsFile(relative, excludeRelative: excludeBase, excludes: excludes) { return }
        if targetExists {
            guard existing.st_mode & S_IFMT != S_IFDIR else { throw CopyError("cannot copy \(relative.isEmpty ? "file" : relative) onto directory \(display(target))") }
            guard unlink(target) == 0 else { throw CopyError.system("replace", display(target)) }
        }
        switch type {
        case S_IFREG:
            let key = HardlinkKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if info.st_nlink > 1, let first = hardlinks[key] {
                guard link(first, target) == 0 else { throw CopyError.system("link", display(target)) }
                return
            }
            try copyContents(source, to: target)
            if info.st_nlink > 1 { hardlinks[key] = target }
            try copyAttributes(from: source, to: target)
            try finish(target, info: info, owner: owner, permissions: permissions, isSymlink: false)
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(source, &buffer, buffer.count - 1)
            guard count >= 0 else { throw CopyError.system("readlink", relative) }
            buffer[count] = 0
            guard symlink(buffer, target) == 0 else { throw CopyError.system("symlink", display(target)) }
            try finish(target, info: info, owner: owner, permissions: permissions, isSymlink: true)
        case S_IFCHR, S_IFBLK, S_IFIFO:
            guard mknod(target, info.st_mode, info.st_rdev) == 0 else { throw CopyError.system("mknod", display(target)) }
            try finish(target, info: info, owner: owner, permissions: permissions, isSymlink: false)
        default:
            return  // sockets are not copied
        }
    }

    private func finish(_ target: String, info: stat, owner: Owner, permissions: UInt32, isSymlink: Bool) throws {
        guard lchown(target, owner.uid, owner.gid) == 0 else { throw CopyError.system("chown", display(target)) }
        if !isSymlink {
            guard chmod(target, mode_t(permissions)) == 0 else { throw CopyError.system("chmod", display(target)) }
        }
        var times = [info.st_atim, info.st_mtim]
        utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW)
    }

    private func copyContents(_ source: String, to target: String) throws {
        do {
            try EntryCopy.copyContents(of: source, to: target)
        } catch {
            throw CopyError("cannot copy to \(display(target)): \(error)")
        }
    }

    /// Extended attributes a layer carries (`user.*`, `security.capability`, ACLs); overlay's own are skipped.
    private func copyAttributes(from source: String, to target: String) throws {
        for (name, value) in ExtendedAttributes.copied(from: source) {
            lsetxattr(target, name, value, value.count, 0)
        }
    }
}

/// Why a copy failed, in the words docker users know.
struct CopyError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }

    static func notFound(_ source: String, ignored: Bool) -> CopyError {
        let hint = ignored ? " (it is excluded by .dockerignore)" : ""
        return CopyError("\"/\(CopySource.clean(source) == "." ? "" : CopySource.clean(source))\": not found\(hint)")
    }

    static func system(_ call: String, _ path: String) -> CopyError {
        CopyError("\(call) \(path): \(String(cString: strerror(errno)))")
    }
}
