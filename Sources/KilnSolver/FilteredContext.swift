import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KilnGraph

/// The build context as a `RUN --mount=type=bind` sees it: without what `.dockerignore` leaves out, as
/// BuildKit's context transfer does. Built as a tree of overlay whiteouts (character devices 0/0) for the
/// left-out paths, to be stacked over the context directory in a read-only overlay mount; the directories
/// on the way copy the context's own mode, owner and times, which the overlay shows from the top layer.
enum FilteredContext {
    /// Writes into `whiteouts` (an empty directory) the whiteouts that hide what `tree` ignores.
    static func writeWhiteouts(for tree: CopySource, into whiteouts: String) throws {
        try copyAttributes(of: tree.root, to: whiteouts)
        try walk(tree, relative: "", into: whiteouts)
    }

    private static func walk(_ tree: CopySource, relative: String, into whiteouts: String) throws {
        let directory = relative.isEmpty ? tree.root : tree.root + "/" + relative
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let child = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(tree.root + "/" + child, &info) == 0 else { continue }
            let isDirectory = info.st_mode & S_IFMT == S_IFDIR
            let hidden = isDirectory
                ? tree.skipsDirectory(child, excludeRelative: child, excludes: nil)
                : tree.skipsFile(child, excludeRelative: child, excludes: nil)
            if hidden {
                guard makeWhiteout(at: whiteouts + "/" + child) == 0 else { throw CopyError.system("mknod", child) }
            } else if isDirectory {
                try walk(tree, relative: child, into: whiteouts)
                // Only directories that hold whiteouts need to exist in the whiteout layer.
                if FileManager.default.fileExists(atPath: whiteouts + "/" + child) {
                    try copyAttributes(of: tree.root + "/" + child, to: whiteouts + "/" + child)
                }
            }
        }
    }

    /// An overlay whiteout (character device 0/0) at `path`, its parent directories created first.
    private static func makeWhiteout(at path: String) -> Int32 {
        let parent = (path as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: parent) {
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        return mknod(path, S_IFCHR, 0)
    }

    private static func copyAttributes(of source: String, to target: String) throws {
        var info = stat()
        guard lstat(source, &info) == 0 else { throw CopyError.system("lstat", source) }
        guard chown(target, info.st_uid, info.st_gid) == 0, chmod(target, info.st_mode & 0o7777) == 0 else {
            throw CopyError.system("chown", target)
        }
        var times = [info.st_atim, info.st_mtim]
        utimensat(AT_FDCWD, target, &times, 0)
    }
}
