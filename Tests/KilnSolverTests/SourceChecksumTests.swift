import Foundation
import KilnGraph
import Testing

@testable import KilnSolver

/// A context directory on tmpfs, removed afterwards.
private final class Context {
    let path = "/dev/shm/kiln-checksum-\(UUID().uuidString)"

    init(_ files: [String: String]) throws {
        for (name, contents) in files {
            let full = path + "/" + name
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: false, encoding: .utf8)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func checksum(ignoring patterns: [String] = [], cache: StatCache = StatCache(path: nil)) throws -> SourceChecksum {
        SourceChecksum(tree: CopySource(root: path, ignored: try PathPatternMatcher(patterns)), includesOwners: false, statCache: cache)
    }

    /// Sets a file's times into the past.
    func age(_ name: String) {
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, path + "/" + name, &times, 0)
    }
}

@Suite("Source checksums")
struct SourceChecksumTests {
    @Test("entries cover exactly what COPY reads: wildcards, .dockerignore, --exclude")
    func selection() throws {
        let context = try Context(["src/main.c": "int main;", "src/notes.md": "x", "src/gen/out.o": "o", "README": "r", "secret.env": "s"])
        let checksum = try context.checksum(ignoring: ["secret.env", "src/gen"])
        let all = try checksum.entries(of: CopyAction(input: 1, sources: ["."], destination: "/"))
        #expect(Set(all.keys) == [".", "src", "src/main.c", "src/notes.md", "README"])
        let sources = try checksum.entries(of: CopyAction(input: 1, sources: ["src/*.c"], destination: "/"))
        #expect(Set(sources.keys) == ["src/main.c"])
        let excluded = try checksum.entries(of: CopyAction(input: 1, sources: ["src"], destination: "/", excludePatterns: ["*.md"]))
        #expect(Set(excluded.keys) == ["src", "src/main.c"])
        #expect(excluded["src/main.c"]?.hasPrefix("f 644 - sha256:") == true)
    }

    @Test("a missing source fails like the copy would, with the .dockerignore hint")
    func missing() throws {
        let context = try Context(["a": "1", "secret.env": "s"])
        let checksum = try context.checksum(ignoring: ["secret.env"])
        #expect(throws: CopyError.self) { try checksum.entries(of: CopyAction(input: 1, sources: ["nope"], destination: "/")) }
        do {
            _ = try checksum.entries(of: CopyAction(input: 1, sources: ["secret.env"], destination: "/"))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("excluded by .dockerignore"))
        }
    }

    @Test("content and mode change the digest; times do not")
    func digests() throws {
        let context = try Context(["a.txt": "one"])
        let copy = CopyAction(input: 1, sources: ["a.txt"], destination: "/")
        let first = SourceChecksum.digest(of: try context.checksum().entries(of: copy))
        context.age("a.txt")
        #expect(SourceChecksum.digest(of: try context.checksum().entries(of: copy)) == first)
        chmod(context.path + "/a.txt", 0o755)
        let executable = SourceChecksum.digest(of: try context.checksum().entries(of: copy))
        #expect(executable != first)
        try "two".write(toFile: context.path + "/a.txt", atomically: false, encoding: .utf8)
        #expect(SourceChecksum.digest(of: try context.checksum().entries(of: copy)) != executable)
    }

    @Test("the stat cache answers for unchanged files, is persisted, and a touched file is hashed again")
    func statCache() throws {
        let context = try Context(["a.txt": "one"])
        let file = context.path + ".statcache"
        defer { unlink(file) }
        let copy = CopyAction(input: 1, sources: ["a.txt"], destination: "/")
        let cache = StatCache(path: file, racyWindow: 0)
        let entry = try context.checksum(cache: cache).entries(of: copy)["a.txt"]
        cache.save()
        var info = stat()
        lstat(context.path + "/a.txt", &info)
        let reloaded = StatCache(path: file, racyWindow: 0)
        #expect(reloaded.digest(of: context.path + "/a.txt", info: info).map { entry?.hasSuffix($0) == true } == true)
        // Touching changes the stat: the cache no longer answers, and hashing gives the same entry.
        utimensat(AT_FDCWD, context.path + "/a.txt", nil, 0)
        lstat(context.path + "/a.txt", &info)
        #expect(reloaded.digest(of: context.path + "/a.txt", info: info) == nil)
        #expect(try context.checksum(cache: reloaded).entries(of: copy)["a.txt"] == entry)
    }

    @Test("files changed in the last seconds are not remembered (a write in the same clock tick would go unseen)")
    func racyEntries() throws {
        let context = try Context(["fresh.txt": "new"])
        let cache = StatCache(path: nil)
        _ = try context.checksum(cache: cache).entries(of: CopyAction(input: 1, sources: ["fresh.txt"], destination: "/"))
        var info = stat()
        lstat(context.path + "/fresh.txt", &info)
        #expect(cache.digest(of: context.path + "/fresh.txt", info: info) == nil)
    }

    @Test("a stale stat-cache entry with a different size is never used")
    func staleEntry() throws {
        let context = try Context(["a.txt": "one"])
        let cache = StatCache(path: nil, racyWindow: 0)
        let copy = CopyAction(input: 1, sources: ["a.txt"], destination: "/")
        let before = try context.checksum(cache: cache).entries(of: copy)
        try "longer content".write(toFile: context.path + "/a.txt", atomically: false, encoding: .utf8)
        context.age("a.txt")
        #expect(try context.checksum(cache: cache).entries(of: copy) != before)
    }
}
