import CKilnLinux
import Foundation
import Testing
@testable import KilnStore

/// The copying snapshotter against overlayfs itself: the same change made through an overlay mount and in a
/// copied tree must give upper directories that produce the same tree when stacked on the layers.
@Suite(.enabled(if: geteuid() == 0, "overlay mounts, whiteout devices and chown need root"))
struct CopySnapshotTests {
    /// A change (a shell command run in the root) and, when it is fixed, what the copying upper holds.
    static let changes: [(name: String, command: String, upper: [String]?)] = [
        ("nothing", "true", []),
        ("a new file", "echo new > new-file", ["new-file"]),
        ("a file appended to", "echo more >> etc/passwd", ["etc", "etc/passwd"]),
        ("a file of the lower layer removed", "rm a/sub/deep", ["a", "a/sub", "a/sub/deep"]),
        ("a directory of both layers removed", "rm -rf a", ["a"]),
        ("a directory removed and made again", "rm -rf a && mkdir a && echo y > a/y", nil),
        ("a setuid bit", "chmod 4755 etc/hosts", ["etc", "etc/hosts"]),
        ("an owner", "chown 1000:1000 etc/hosts", ["etc", "etc/hosts"]),
        ("only the times", "touch -d @5000000 etc/hosts", ["etc", "etc/hosts"]),
        ("same size and time, other bytes", "printf X > a/file1 && touch -d @1000000 a/file1", ["a", "a/file1"]),
        ("a symbolic link retargeted", "ln -sfn etc/hosts link", ["link"]),
        ("a fifo", "mkfifo pipe", ["pipe"]),
        ("a file replaced by a directory", "rm etc/added && mkdir etc/added && echo z > etc/added/z", nil),
        ("a directory replaced by a file", "rm -rf a && echo now-a-file > a", ["a"]),
        ("a file in an opaque directory", "echo n2 > d/new2", ["d", "d/new2"]),
        ("a directory moved", "mv a/sub b", nil),
        ("new hard links", "echo pair > n1 && ln n1 n2", ["n1", "n2"]),
    ]

    @Test(arguments: changes)
    func copyingAgreesWithOverlayfs(change: (name: String, command: String, upper: [String]?)) throws {
        let scratch = try Scratch()
        let layers = try scratch.makeLayers()

        let overlay = scratch.path + "/overlay"
        for name in ["upper", "work", "merged"] { try FileManager.default.createDirectory(atPath: overlay + "/" + name, withIntermediateDirectories: true) }
        try OverlayMount.mount(lowers: layers, upper: overlay + "/upper", work: overlay + "/work", on: overlay + "/merged")
        do {
            defer { try? OverlayMount.unmount(overlay + "/merged") }
            try Self.shell(change.command, in: overlay + "/merged")
        }

        let tree = scratch.path + "/tree", upper = scratch.path + "/upper"
        for directory in [tree, upper] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let copied = try CopySnapshot.materialize(LayerStack(layers: layers), into: tree)
        try Self.shell(change.command, in: tree)
        try CopySnapshot.diff(tree, against: LayerStack(layers: layers), into: upper, copiedBefore: copied)

        let expected = try TreeListing(tree)
        #expect(try scratch.stacked([overlay + "/upper"] + layers) == expected, "the overlay upper stacked on the layers is the changed tree")
        #expect(try scratch.stacked([upper] + layers) == expected, "the copying upper stacked on the layers is the changed tree")
        if let paths = change.upper {
            #expect(try FileManager.default.subpathsOfDirectory(atPath: upper).sorted() == paths.sorted())
        }
    }

    @Test func hardLinksAndWhiteoutsKeepTheirForm() throws {
        let scratch = try Scratch()
        let layers = try scratch.makeLayers()
        let tree = scratch.path + "/tree", upper = scratch.path + "/upper"
        for directory in [tree, upper] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try CopySnapshot.materialize(LayerStack(layers: layers), into: tree)
        var tool = stat(), link = stat()
        #expect(lstat(tree + "/bin/tool", &tool) == 0 && lstat(tree + "/bin/tool-link", &link) == 0 && tool.st_ino == link.st_ino)
        #expect(!FileManager.default.fileExists(atPath: tree + "/a/file2") && !FileManager.default.fileExists(atPath: tree + "/gone"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree + "/d") == ["new1"], "the opaque directory hides the lower d/old1")
        #expect(LayerStack.isOpaque(tree + "/d") == false, "overlay's attributes stay out of the copy")

        try Self.shell("echo pair > n1 && ln n1 n2 && rm etc/passwd", in: tree)
        try CopySnapshot.diff(tree, against: LayerStack(layers: layers), into: upper)
        var first = stat(), second = stat(), whiteout = stat()
        #expect(lstat(upper + "/n1", &first) == 0 && lstat(upper + "/n2", &second) == 0 && first.st_ino == second.st_ino)
        #expect(lstat(upper + "/etc/passwd", &whiteout) == 0 && LayerStack.isWhiteout(whiteout))
    }

    static func shell(_ command: String, in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(command) in \(directory)")
    }
}

/// A tmpfs directory with two snapshot layers in overlayfs form.
private final class Scratch {
    let path = "/dev/shm/kiln-copy-snapshot-\(UUID().uuidString)"

    init() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        for mountPoint in MountTable.mountPoints(under: path).reversed() { try? OverlayMount.unmount(mountPoint) }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The layers, topmost first: a base, and above it a whiteout for `a/file2` and for `gone`, an opaque
    /// `d`, and a new `etc/added`.
    func makeLayers() throws -> [String] {
        let bottom = path + "/layer1", top = path + "/layer2"
        try write(bottom, [
            "etc/passwd": "root:x:0:0::/root:/bin/sh\n", "etc/hosts": "127.0.0.1 localhost\n", "bin/tool": "tool v1",
            "a/file1": "1", "a/file2": "2", "a/sub/deep": "d", "d/old1": "o1", "gone/x": "x", "owned": "mine",
        ])
        chmod(bottom + "/bin/tool", 0o755)
        link(bottom + "/bin/tool", bottom + "/bin/tool-link")
        symlink("etc/passwd", bottom + "/link")
        lchown(bottom + "/owned", 1000, 1000)
        chmod(bottom + "/owned", 0o640)
        try write(top, ["d/new1": "n1", "etc/added": "added"])
        try FileManager.default.createDirectory(atPath: top + "/a", withIntermediateDirectories: true)
        mknod(top + "/a/file2", S_IFCHR, 0)
        mknod(top + "/gone", S_IFCHR, 0)
        #expect(setxattr(top + "/d", "trusted.overlay.opaque", "y", 1, 0) == 0)
        try backdate(bottom, to: 1_000_000)
        try backdate(top, to: 2_000_000)
        return [top, bottom]
    }

    /// What `layers` (topmost first) show merged.
    func stacked(_ layers: [String]) throws -> TreeListing {
        let target = path + "/stacked-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: target) }
        try CopySnapshot.materialize(LayerStack(layers: layers), into: target)
        return try TreeListing(target)
    }

    private func write(_ root: String, _ files: [String: String]) throws {
        for (relative, text) in files {
            let file = root + "/" + relative
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: false, encoding: .utf8)
        }
    }

    private func backdate(_ root: String, to seconds: Int) throws {
        let paths = try FileManager.default.subpathsOfDirectory(atPath: root).sorted(by: >).map { root + "/" + $0 } + [root]
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        for path in paths { utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) }
    }
}

/// Everything about a tree that a layer carries, path by path; times only where a test set them (recent
/// times differ between two runs of the same change).
private struct TreeListing: Equatable, CustomStringConvertible {
    let lines: [String]

    init(_ root: String) throws {
        lines = try FileManager.default.subpathsOfDirectory(atPath: root).sorted().map { relative in
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { return relative + " missing" }
            var line = "\(relative) \(String(info.st_mode, radix: 8)) \(info.st_uid):\(info.st_gid)"
            line += info.st_mtim.tv_sec < 1_000_000_000 ? " t=\(info.st_mtim.tv_sec)" : " t=recent"
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                line += " " + String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self).debugDescription
            case S_IFLNK:
                line += " -> " + (try FileManager.default.destinationOfSymbolicLink(atPath: path))
            default: break
            }
            return line
        }
    }

    var description: String { lines.joined(separator: "\n") }
}
