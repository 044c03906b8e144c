import CKilnLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Mount points that did not exist in the root filesystem: the runtime creates them (empty files and
/// directories) in the writable layer, and they must not end up in the image. Recorded before the
/// process runs; removed from the upper directory afterwards, restoring the times of the directories
/// they were created in, so a step that only mounted things leaves no change behind (like BuildKit's
/// mount stub cleaner). As there, the runtime's own file systems (`/proc`, `/dev`, `/sys`) are not stubs: a
/// root filesystem without them (a scratch stage) gets their directories in the RUN layer, with mode 0755 as
/// runc makes them (crun makes `/dev` 1755), so the layer does not depend on the runtime.
struct MountStubs {
    /// Whether `destination` is one of the file systems every container gets, which BuildKit leaves in place.
    static func isRuntimeFileSystem(_ destination: String) -> Bool {
        ["/proc", "/dev", "/sys"].contains { destination == $0 || destination.hasPrefix($0 + "/") }
    }

    /// Paths (relative to the root) that were missing, deepest last.
    private(set) var created: [String] = []
    /// Mount points of the runtime's file systems that were missing: they stay, with a fixed mode.
    private(set) var runtimeDirectories: [String] = []
    /// Existing directories that will receive a stub, with their state before the run.
    private var parents: [String: stat] = [:]

    /// Records which components of each of `targets` are missing in `rootfs` (the merged view).
    init(targets: [String], rootfs: String) {
        var seen = Set<String>()
        for target in targets where Self.isRuntimeFileSystem(target) && target.split(separator: "/").count == 1 {
            var info = stat()
            if let host = try? RootedPath.resolve(target, in: rootfs), lstat(host, &info) != 0 {
                runtimeDirectories.append(String(target.dropFirst()))
            }
        }
        for target in targets where !Self.isRuntimeFileSystem(target) {
            let components = target.split(separator: "/").map(String.init)
            var relative = ""
            for component in components {
                let parent = relative
                relative = relative.isEmpty ? component : relative + "/" + component
                guard let host = try? RootedPath.resolve(relative, in: rootfs) else { break }
                var info = stat()
                if lstat(host, &info) == 0 { continue }
                if !seen.contains(relative) {
                    seen.insert(relative)
                    created.append(relative)
                    if let parentHost = try? RootedPath.resolve(parent, in: rootfs), parents[parent] == nil {
                        var parentInfo = stat()
                        if stat(parentHost, &parentInfo) == 0 { parents[parent] = parentInfo }
                    }
                }
            }
        }
    }

    /// Removes the stubs from `upper` (an overlay upper directory, no longer mounted) when they are still
    /// empty, then undoes what creating them did to their parents.
    func clean(upper: String) {
        for relative in runtimeDirectories {
            var info = stat()
            if lstat(upper + "/" + relative, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR { chmod(upper + "/" + relative, 0o755) }
        }
        for relative in created.reversed() {
            let path = upper + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFREG where info.st_size == 0: unlink(path)
            case S_IFDIR: rmdir(path)  // fails, and so keeps it, when the step put something inside
            default: break
            }
        }
        for (relative, before) in parents.sorted(by: { $0.key.count > $1.key.count }) {
            let path = relative.isEmpty ? upper : upper + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
            var times = [before.st_atim, before.st_mtim]
            utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
            // A directory only copied up to hold a stub is identical to the lower one: drop it.
            guard !relative.isEmpty, info.st_mode == before.st_mode, info.st_uid == before.st_uid, info.st_gid == before.st_gid,
                !Self.isOpaque(path)
            else { continue }
            rmdir(path)
        }
    }

    private static func isOpaque(_ path: String) -> Bool {
        var value: UInt8 = 0
        return getxattr(path, "trusted.overlay.opaque", &value, 1) == 1 && value == UInt8(ascii: "y")
    }
}
