import Foundation
import Testing
@testable import KilnArchive

@Suite("Tar writer and reader")
struct TarRoundTripTests {
    func roundTrip(_ entries: [(TarEntry, [UInt8])]) throws -> [(TarEntry, [UInt8])] {
        var writer = TarWriter(sink: MemorySink())
        for (entry, contents) in entries { try writer.append(entry, contents: contents) }
        try writer.finish()
        var reader = TarReader(source: MemorySource(writer.sink.bytes))
        var result: [(TarEntry, [UInt8])] = []
        while let entry = try reader.next() {
            var contents: [UInt8] = []
            while true {
                let chunk = try reader.readContents(upTo: 7)
                if chunk.isEmpty { break }
                contents += chunk
            }
            result.append((entry, contents))
        }
        return result
    }

    static let longName = String(repeating: "deep/", count: 40) + "file.txt"

    @Test("every entry kind and the PAX cases survive a round trip", arguments: [
        (TarEntry(path: "etc", kind: .directory, mode: 0o755), [UInt8]()),
        (TarEntry(path: "etc/passwd", kind: .regular, mode: 0o644, uid: 0, gid: 0, userName: "root", groupName: "root"), Array("root:x:0:0\n".utf8)),
        (TarEntry(path: "bin/su", kind: .regular, mode: 0o4755), Array("#!/bin/sh\n".utf8)),
        (TarEntry(path: "tmp", kind: .directory, mode: 0o1777), []),
        (TarEntry(path: "bin/sh", kind: .symlink, linkTarget: "busybox", mode: 0o777), []),
        (TarEntry(path: "bin/ls", kind: .hardlink, linkTarget: "bin/busybox"), []),
        (TarEntry(path: "dev/null", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 3), []),
        (TarEntry(path: "dev/sda", kind: .blockDevice, mode: 0o660, deviceMajor: 8, deviceMinor: 0), []),
        (TarEntry(path: "run/fifo", kind: .fifo, mode: 0o600), []),
        (TarEntry(path: longName, kind: .regular), Array("long".utf8)),
        (TarEntry(path: "link", kind: .symlink, linkTarget: longName), []),
        (TarEntry(path: "ünïcødé/名前", kind: .regular, userName: "üser"), Array("x".utf8)),
        (TarEntry(path: "big-ids", kind: .regular, uid: 3_000_000_000, gid: 70_000_000), []),
        (TarEntry(path: "subsecond", kind: .regular, modificationTime: TarTime(seconds: 1_700_000_000, nanoseconds: 123_456_789)), []),
        (TarEntry(path: "bin/ping", kind: .regular, mode: 0o755,
                  extendedAttributes: ["security.capability": [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "user.note": Array("hi".utf8)]),
         Array("ELF".utf8)),
        (TarEntry(path: "blocksize", kind: .regular), [UInt8](repeating: 0xAB, count: 512)),
        (TarEntry(path: "odd", kind: .regular), [UInt8](repeating: 1, count: 513)),
    ])
    func roundTrips(_ entry: TarEntry, _ contents: [UInt8]) throws {
        var expected = entry
        expected.size = entry.kind == .regular ? Int64(contents.count) : 0
        let result = try roundTrip([(entry, contents), (TarEntry(path: "after", kind: .regular), [1, 2, 3])])
        #expect(result.count == 2)
        #expect(result[0].0 == expected)
        #expect(result[0].1 == contents)
        #expect(result[1].1 == [1, 2, 3])
    }

    @Test("files of 8 GiB and more get a PAX size record that the reader honours")
    func hugeFile() throws {
        let size: Int64 = 9 << 30
        var writer = TarWriter(sink: MemorySink())
        try writer.beginEntry(TarEntry(path: "huge.img", kind: .regular, size: size))
        let header = writer.sink.bytes
        #expect(String(decoding: header, as: UTF8.self).contains("size=\(size)\n"))
        var reader = TarReader(source: MemorySource(header + [UInt8](repeating: 0, count: 512)))
        let entry = try #require(try reader.next())
        #expect(entry.size == size && entry.path == "huge.img")
    }

    @Test("the same entries give the same bytes")
    func deterministic() throws {
        func archive() throws -> [UInt8] {
            var writer = TarWriter(sink: MemorySink())
            try writer.append(TarEntry(path: "a", kind: .regular, extendedAttributes: ["user.b": [1], "user.a": [2]]), contents: [9])
            try writer.finish()
            return writer.sink.bytes
        }
        #expect(try archive() == archive())
    }

    @Test("writing more or less than the declared size is an error")
    func sizeMismatch() throws {
        var writer = TarWriter(sink: MemorySink())
        try writer.beginEntry(TarEntry(path: "a", kind: .regular, size: 2))
        #expect(throws: ArchiveError.self) { try writer.writeContents([1, 2, 3]) }
        try writer.writeContents([1])
        #expect(throws: ArchiveError.sizeMismatch(path: "a", declared: 2, written: 1)) { try writer.finish() }
    }

    @Test("a corrupted header is rejected with its offset")
    func badChecksum() throws {
        var writer = TarWriter(sink: MemorySink())
        try writer.append(TarEntry(path: "a", kind: .regular), contents: [1])
        try writer.finish()
        var bytes = writer.sink.bytes
        bytes[10] ^= 0xFF
        var reader = TarReader(source: MemorySource(bytes))
        #expect(throws: ArchiveError.invalidHeaderChecksum(offset: 0)) { try reader.next() }
    }

    @Test("an archive cut inside an entry is reported as truncated")
    func truncated() throws {
        var writer = TarWriter(sink: MemorySink())
        try writer.append(TarEntry(path: "a", kind: .regular), contents: [UInt8](repeating: 1, count: 1000))
        var reader = TarReader(source: MemorySource(Array(writer.sink.bytes.prefix(700))))
        _ = try reader.next()
        #expect(throws: ArchiveError.truncated(path: "a")) { _ = try reader.readContents(upTo: 1000) }
    }

    @Test("archives written by GNU tar and by Python (PAX and GNU formats) are read")
    func interoperability() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-tar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = """
            import tarfile, io
            for fmt, name in ((tarfile.PAX_FORMAT, "pax.tar"), (tarfile.GNU_FORMAT, "gnu.tar")):
                with tarfile.open(name, "w", format=fmt) as t:
                    data = b"hello"
                    info = tarfile.TarInfo("d/" + "x" * 150 + "/file")
                    info.size = len(data); info.mode = 0o640; info.uid = 2**22; info.uname = "ünï"; info.mtime = 1700000000
                    t.addfile(info, io.BytesIO(data))
                    link = tarfile.TarInfo("l"); link.type = tarfile.SYMTYPE; link.linkname = "t" * 120
                    t.addfile(link)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.currentDirectoryURL = directory
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 is needed to make the fixtures")
        for name in ["pax.tar", "gnu.tar"] {
            var reader = TarReader(source: MemorySource(Array(try Data(contentsOf: directory.appendingPathComponent(name)))))
            let file = try #require(try reader.next())
            #expect(file.path == "d/" + String(repeating: "x", count: 150) + "/file")
            #expect(file.mode == 0o640)
            #expect(file.uid == 1 << 22)
            #expect(file.userName == "ünï")
            #expect(try reader.readContents(upTo: 100) == Array("hello".utf8))
            let link = try #require(try reader.next())
            #expect(link.kind == .symlink && link.linkTarget == String(repeating: "t", count: 120))
            #expect(try reader.next() == nil)
        }
    }
}
