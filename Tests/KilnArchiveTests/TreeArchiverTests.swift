import CKilnLinux
import Foundation
import Testing
@testable import KilnArchive

@Suite("Directory trees as layers")
struct TreeArchiverTests {
    final class Tree {
        let base: URL

        init() throws {
            base = URL(fileURLWithPath: "/dev/shm").appendingPathComponent("kiln-tree-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: base) }

        func path(_ relative: String) -> String { base.appendingPathComponent(relative).path }

        func write(_ relative: String, _ text: String, mode: Int = 0o644) throws {
            try FileManager.default.createDirectory(atPath: (path(relative) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path(relative), atomically: false, encoding: .utf8)
            chmod(path(relative), mode_t(mode))
        }
    }

    func archive(_ directory: String, options: TreeArchiver.Options = TreeArchiver.Options()) throws -> [UInt8] {
        var writer = TarWriter(sink: MemorySink())
        var archiver = TreeArchiver(options: options)
        try archiver.archive(directory: directory, to: &writer)
        try writer.finish()
        return writer.sink.bytes
    }

    func entries(_ bytes: [UInt8]) throws -> [TarEntry] {
        var reader = TarReader(source: MemorySource(bytes))
        var result: [TarEntry] = []
        while let entry = try reader.next() { result.append(entry) }
        return result
    }

    func makeSampleTree() throws -> Tree {
        let tree = try Tree()
        try tree.write("usr/bin/tool", "#!/bin/sh\n", mode: 0o4755)
        try tree.write("etc/config", "a=1\n")
        try tree.write("b-first", "")
        link(tree.path("usr/bin/tool"), tree.path("usr/bin/tool-alias"))
        symlink("../usr/bin/tool", tree.path("etc/tool-link"))
        setxattr(tree.path("usr/bin/tool"), "user.kiln", "v", 1, 0)
        return tree
    }

    @Test("entries come sorted, parents first, with hardlinks, symlinks and modes")
    func order() throws {
        let tree = try makeSampleTree()
        let list = try entries(archive(tree.base.path))
        #expect(list.map(\.path) == ["b-first", "etc", "etc/config", "etc/tool-link", "usr", "usr/bin", "usr/bin/tool", "usr/bin/tool-alias"])
        #expect(list[6].mode == 0o4755)
        #expect(list[7].kind == .hardlink && list[7].linkTarget == "usr/bin/tool")
        #expect(list[3].kind == .symlink && list[3].linkTarget == "../usr/bin/tool")
        #expect(list.allSatisfy { $0.userName.isEmpty && $0.groupName.isEmpty })
        if let value = list[6].extendedAttributes["user.kiln"] { #expect(value == Array("v".utf8)) }
    }

    @Test("the same tree gives the same bytes; SOURCE_DATE_EPOCH hides newer times")
    func deterministic() throws {
        let tree = try makeSampleTree()
        let options = TreeArchiver.Options(sourceDateEpoch: 1_000_000)
        let first = try archive(tree.base.path, options: options)
        #expect(try archive(tree.base.path, options: options) == first)
        var times = [timespec(tv_sec: 2_000_000_000, tv_nsec: 5), timespec(tv_sec: 2_000_000_000, tv_nsec: 5)]
        utimensat(AT_FDCWD, tree.path("etc/config"), &times, 0)
        #expect(try archive(tree.base.path, options: options) == first)
        #expect(try entries(first).allSatisfy { $0.modificationTime.seconds <= 1_000_000 })
    }

    @Test("a tree survives archive and extraction")
    func roundTrip() throws {
        let tree = try makeSampleTree()
        let target = try Tree()
        var reader = TarReader(source: MemorySource(try archive(tree.base.path)))
        var extractor = try SafeExtractor(root: target.base.path)
        try extractor.extractAll(from: &reader)
        #expect(try String(contentsOfFile: target.path("etc/config"), encoding: .utf8) == "a=1\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.path("etc/tool-link")) == "../usr/bin/tool")
        var a = stat(), b = stat()
        stat(target.path("usr/bin/tool"), &a)
        stat(target.path("usr/bin/tool-alias"), &b)
        #expect(a.st_ino == b.st_ino && a.st_mode & 0o7777 == 0o4755)
        #expect(try archive(target.base.path) == archive(tree.base.path))
    }

    @Test("an overlayfs upper directory becomes a layer with whiteouts and opaque markers",
          .enabled(if: geteuid() == 0, "needs root to mount overlayfs"))
    func overlayUpper() throws {
        let work = try Tree()
        for name in ["lower", "upper", "work", "merged"] {
            try FileManager.default.createDirectory(atPath: work.path(name), withIntermediateDirectories: true)
        }
        try work.write("lower/remove-me", "x")
        try work.write("lower/keep", "x")
        try work.write("lower/dir/old", "x")
        let options = "lowerdir=\(work.path("lower")),upperdir=\(work.path("upper")),workdir=\(work.path("work"))"
        guard mount("overlay", work.path("merged"), "overlay", 0, options) == 0 else {
            Issue.record("overlay mount failed: errno \(errno)")
            return
        }
        defer { umount2(work.path("merged"), 0) }
        try FileManager.default.removeItem(atPath: work.path("merged/remove-me"))
        try FileManager.default.removeItem(atPath: work.path("merged/dir"))
        try work.write("merged/dir/new", "y")
        try work.write("merged/added", "z")
        umount2(work.path("merged"), 0)

        var archiveOptions = TreeArchiver.Options()
        archiveOptions.convertsOverlayWhiteouts = true
        let list = try entries(archive(work.path("upper"), options: archiveOptions))
        let paths = list.map(\.path)
        #expect(paths.contains(".wh.remove-me"))
        #expect(paths.contains("dir/.wh..wh..opq"))
        #expect(paths.contains("dir/new") && paths.contains("added"))
        #expect(!paths.contains("keep"))
        #expect(list.allSatisfy { $0.kind != .characterDevice })
        #expect(list.allSatisfy { $0.extendedAttributes.keys.allSatisfy { !$0.contains("overlay") } })

        // Applied onto the lower tree, the layer gives what the merged view showed.
        var reader = TarReader(source: MemorySource(try archive(work.path("upper"), options: archiveOptions)))
        var extractor = try SafeExtractor(root: work.path("lower"))
        try extractor.extractAll(from: &reader)
        let result = FileManager.default.enumerator(atPath: work.path("lower"))?.allObjects.compactMap { $0 as? String }.sorted()
        #expect(result == ["added", "dir", "dir/new", "keep"])
    }
}
