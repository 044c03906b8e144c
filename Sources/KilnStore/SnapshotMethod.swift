import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a step gets a writable root filesystem over read-only snapshots, and how what it changed becomes
/// an upper directory (overlayfs's format either way).
public enum SnapshotMethod: Sendable, Equatable {
    /// overlayfs: the snapshots as lower directories under a fresh upper directory.
    case overlay
    /// A copy of the merged snapshots, compared with them afterwards (``CopySnapshot``), where overlayfs
    /// cannot be mounted; `reason` says why.
    case copy(reason: String)

    /// The method that works for a store whose scratch directories live in `directory`: overlayfs when a
    /// test mount there succeeds, else copying. `KILN_SNAPSHOTTER=copy` forces copying (for debugging).
    public static func detect(in directory: String) -> SnapshotMethod {
        if ProcessInfo.processInfo.environment["KILN_SNAPSHOTTER"] == "copy" { return .copy(reason: "KILN_SNAPSHOTTER=copy") }
        let probe = directory + "/overlay-probe-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: probe) }
        do {
            for name in ["lower", "upper", "work", "merged"] {
                try FileManager.default.createDirectory(atPath: probe + "/" + name, withIntermediateDirectories: true)
            }
            try OverlayMount.mount(lowers: [probe + "/lower"], upper: probe + "/upper", work: probe + "/work", on: probe + "/merged")
            try OverlayMount.unmount(probe + "/merged")
            return .overlay
        } catch {
            return .copy(reason: "overlayfs cannot be mounted in \(directory): \(error)")
        }
    }

    /// Makes `rootfs` the writable union of `lowers` (topmost first; empty for `scratch`). `upper` and `work`
    /// are empty directories on the same file system.
    public func mount(lowers: [String], upper: String, work: String, empty: String, on rootfs: String) throws {
        switch self {
        case .overlay:
            try OverlayMount.mount(lowers: lowers.isEmpty ? [empty] : lowers, upper: upper, work: work, on: rootfs)
        case .copy:
            let copied = try CopySnapshot.materialize(LayerStack(layers: lowers), into: rootfs)
            // The work directory is unused when copying: it keeps the time the copy was complete.
            try "\(copied.tv_sec).\(copied.tv_nsec)".write(toFile: work + "/copied", atomically: false, encoding: .utf8)
        }
    }

    /// After the step: leaves in `upper` what changed in `rootfs` (overlayfs has already put it there); `work`
    /// is the one given to ``mount(lowers:upper:work:empty:on:)``.
    public func capture(lowers: [String], rootfs: String, upper: String, work: String) throws {
        guard case .copy = self else { return }
        let recorded = (try? String(contentsOfFile: work + "/copied", encoding: .utf8))?.split(separator: ".").compactMap { Int($0) }
        let copied = recorded.flatMap { $0.count == 2 ? timespec(tv_sec: $0[0], tv_nsec: $0[1]) : nil }
        try CopySnapshot.diff(rootfs, against: LayerStack(layers: lowers), into: upper, copiedBefore: copied)
    }

    /// Undoes ``mount(lowers:upper:work:empty:on:)``; a copied `rootfs` is left for its owner to remove.
    public func release(rootfs: String) {
        if case .overlay = self { try? OverlayMount.unmount(rootfs) }
    }

    /// Makes `rootfs` show the union of `lowers` read-only (copying: a copy nobody writes to).
    public func mountReadOnly(lowers: [String], empty: String, on rootfs: String) throws {
        switch self {
        case .overlay:
            // overlayfs mounts read-only when it has no upper directory, and wants two lower directories for that.
            try OverlayMount.mountReadOnly(lowers: lowers.isEmpty ? [empty, empty] : lowers, on: rootfs)
        case .copy:
            try CopySnapshot.materialize(LayerStack(layers: lowers), into: rootfs)
        }
    }

    /// Makes `merged` a writable view of the directory `source` whose changes never reach it.
    public func mountThrowawayCopy(of source: String, upper: String, work: String, on merged: String) throws {
        switch self {
        case .overlay: try OverlayMount.mount(lowers: [source], upper: upper, work: work, on: merged)
        case .copy: try TreeCopy.copyContents(of: source, to: merged)
        }
    }
}
