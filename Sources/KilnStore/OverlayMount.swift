import CKilnLinux
#if canImport(Glibc)
import Glibc
#endif

/// Mounts and unmounts overlay file systems: read-only lower directories (snapshots) under a writable
/// upper directory. Options that would make the upper directory depend on the lower ones (index,
/// redirect_dir, metacopy) are off, so an upper directory is a self-contained layer diff.
public enum OverlayMount {
    /// Mounts `lowers` (topmost first) with `upper` and `work` on `target`.
    public static func mount(lowers: [String], upper: String, work: String, on target: String) throws {
        guard !lowers.isEmpty else { throw StoreError(.unsupported, "an overlay mount needs at least one lower directory") }
        let extra = ["upperdir=" + escape(upper), "workdir=" + escape(work), "index=off", "redirect_dir=off", "metacopy=off"]
        let data = (["lowerdir=" + lowers.map(escape).joined(separator: ":")] + extra).joined(separator: ",")
        // mount(2) takes at most one page of options; deep layer stacks go through fsconfig's `lowerdir+`.
        if data.utf8.count < 4000 {
            guard kiln_mount("overlay", target, "overlay", 0, data) == 0 else { throw StoreError.system("mount overlay on", target) }
            return
        }
        try mountWithFileSystemContext(lowers: lowers, options: [("upperdir", upper), ("workdir", work)], on: target)
    }

    /// Mounts the union of `lowers` (topmost first, at least two) read-only on `target`.
    public static func mountReadOnly(lowers: [String], on target: String) throws {
        guard lowers.count >= 2 else { throw StoreError(.unsupported, "a read-only overlay mount needs two lower directories") }
        let data = "lowerdir=" + lowers.map(escape).joined(separator: ":")
        if data.utf8.count < 4000 {
            guard kiln_mount("overlay", target, "overlay", UInt(MS_RDONLY), data) == 0 else { throw StoreError.system("mount overlay on", target) }
            return
        }
        try mountWithFileSystemContext(lowers: lowers, options: [], on: target)
    }

    /// Unmounts `target`; a busy mount is detached so nothing is left behind.
    public static func unmount(_ target: String) throws {
        if kiln_umount(target, 0) == 0 { return }
        let code = errno
        if code == EINVAL || code == ENOENT { return }  // not mounted
        guard kiln_umount(target, Int32(MNT_DETACH)) == 0 else { throw StoreError.system("umount", target, errno: code) }
    }

    /// Whether `path` is a mount point (its device differs from its parent's, or it is a bind of itself).
    public static func isMountPoint(_ path: String) -> Bool {
        var info = stat(), parent = stat()
        guard lstat(path, &info) == 0, lstat(path + "/..", &parent) == 0 else { return false }
        return info.st_dev != parent.st_dev || info.st_ino == parent.st_ino
    }

    private static func mountWithFileSystemContext(lowers: [String], options: [(String, String)], on target: String) throws {
        let context = kiln_fsopen("overlay", UInt32(KILN_FSOPEN_CLOEXEC))
        guard context >= 0 else { throw StoreError.system("fsopen overlay for", target) }
        defer { close(context) }
        func set(_ key: String, _ value: String) throws {
            guard kiln_fsconfig(context, UInt32(KILN_FSCONFIG_SET_STRING), key, value, 0) == 0 else {
                let code = errno
                let hint = key == "lowerdir+" ? " (this kernel cannot stack \(lowers.count) layers; Linux 6.8 or newer can)" : ""
                throw StoreError(.io, "overlay option \(key)=\(value): \(String(cString: strerror(code)))\(hint)")
            }
        }
        for lower in lowers { try set("lowerdir+", lower) }
        for (key, value) in options { try set(key, value) }
        if !options.isEmpty {
            for key in ["index", "redirect_dir", "metacopy"] { try set(key, "off") }
        }
        guard kiln_fsconfig(context, UInt32(KILN_FSCONFIG_CMD_CREATE), nil, nil, 0) == 0 else {
            throw StoreError.system("create overlay for", target)
        }
        let mounted = kiln_fsmount(context, UInt32(KILN_FSMOUNT_CLOEXEC), 0)
        guard mounted >= 0 else { throw StoreError.system("fsmount overlay for", target) }
        defer { close(mounted) }
        guard kiln_move_mount(mounted, "", AT_FDCWD, target, UInt32(KILN_MOVE_MOUNT_F_EMPTY_PATH)) == 0 else {
            throw StoreError.system("move_mount overlay to", target)
        }
    }

    /// Escapes the characters overlayfs treats as separators in path options.
    private static func escape(_ path: String) -> String {
        var escaped = ""
        for character in path {
            if character == ":" || character == "," || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
