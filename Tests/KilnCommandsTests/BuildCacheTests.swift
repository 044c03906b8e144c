import Foundation
import KilnTestSupport
import Testing

private let buildsAvailable = geteuid() == 0 && BusyboxRootfs.binary != nil && (KilnProcess.has("crun") || KilnProcess.has("runc"))

/// The plain-progress lines of a build that match `#N CACHED` or `#N cache miss: …`, by step name.
private struct CacheLog {
    var cached: Set<String> = []
    var misses: [String: String] = [:]
    var ran: Set<String> = []
    /// What the steps that ran printed.
    var output: [String] = []

    init(_ errors: String) {
        var names: [String: String] = [:]
        for line in errors.split(separator: "\n").map(String.init) {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0].hasPrefix("#") else { continue }
            let number = parts[0]
            if parts[1].hasPrefix("[") { names[number] = parts[1] }
            guard let name = names[number] else { continue }
            if parts[1] == "CACHED" { cached.insert(name) }
            if parts[1].hasPrefix("cache miss: ") { misses[name] = String(parts[1].dropFirst("cache miss: ".count)) }
            if parts[1].hasPrefix("DONE") { ran.insert(name) }
            // Output lines: `#N 0.012 text`.
            let words = parts[1].split(separator: " ", maxSplits: 1).map(String.init)
            if words.count == 2, Double(words[0]) != nil { output.append(words[1]) }
        }
    }
}

@Suite("kiln build cache", .enabled(if: buildsAvailable, "needs root, busybox-static and crun or runc (installed by scripts/test.sh)"), .serialized)
struct BuildCacheTests {
    static let dockerfile = """
        FROM busybox:1 AS builder
        ARG VERSION=1.2
        ARG UNUSED=x
        WORKDIR /src
        COPY deps.txt .
        RUN echo ran-deps && cp deps.txt /deps-installed
        COPY src/ ./src/
        RUN echo ran-build-$VERSION && cat src/*.c > /program

        FROM busybox:1
        COPY --from=builder /program /app/program
        COPY config.ini /app/
        CMD ["cat", "/app/program"]
        """

    static let files = [
        "Dockerfile": dockerfile,
        "deps.txt": "libfoo\n",
        "src/main.c": "int main() { return 0; }\n",
        "src/util.c": "int util;\n",
        "config.ini": "a=1\n",
        ".dockerignore": "*.log\n",
    ]

    @Test("a no-op rebuild runs nothing and reuses every step; a touched file still hits")
    func noOpRebuild() throws {
        let sandbox = try BuildSandbox("cache-noop")
        try sandbox.write(Self.files)
        let first = try sandbox.build(["-t", "app"])
        try #require(first.status == 0, "\(first.errors)")
        #expect(first.errors.contains("ran-build-1.2"))
        #expect(first.output.contains("(no earlier build of this target to compare with)"))

        // touch changes times only: the stat cache misses, the content checksum does not
        utimensat(AT_FDCWD, sandbox.context + "/src/main.c", nil, 0)
        try "ignored\n".write(toFile: sandbox.context + "/build.log", atomically: false, encoding: .utf8)
        let second = try sandbox.build(["-t", "app"])
        try #require(second.status == 0, "\(second.errors)")
        let log = CacheLog(second.errors)
        #expect(log.misses.isEmpty, "\(log.misses)")
        #expect(log.cached.count == 7, "\(second.errors)")
        #expect(log.output.isEmpty, "\(log.output)")
        #expect(second.output.contains("Cache: 7 of 7 steps reused"))
        let run = try sandbox.run("app", "cat /app/program")
        #expect(run.output.contains("int main()"))
    }

    @Test("a one-file edit re-runs only the steps that depend on it, each miss explained")
    func oneFileEdit() throws {
        let sandbox = try BuildSandbox("cache-edit")
        try sandbox.write(Self.files)
        try #require(try sandbox.build(["-t", "app"]).status == 0)
        try sandbox.write(["src/main.c": "int main() { return 1; }\n"])
        let result = try sandbox.build(["-t", "app"])
        try #require(result.status == 0, "\(result.errors)")
        let log = CacheLog(result.errors)
        #expect(log.misses["[builder 5/6] COPY src/ ./src/"] == "src/main.c content changed")
        #expect(log.misses["[builder 6/6] RUN echo ran-build-$VERSION && cat src/*.c > /program"]?.hasPrefix("parent step changed (#") == true)
        #expect(log.misses["[stage-1 2/3] COPY --from=builder /program /app/program"]?.hasPrefix("parent step changed (#") == true)
        #expect(log.cached.contains("[builder 4/6] RUN echo ran-deps && cp deps.txt /deps-installed"))
        #expect(log.misses["[stage-1 3/3] COPY config.ini /app/"]?.hasPrefix("parent step changed (#") == true)
        #expect(log.output == ["ran-build-1.2"])
        #expect(result.output.contains("src/main.c content changed"))

        try sandbox.write(["src/new.c": "int extra;\n"])
        let added = CacheLog(try sandbox.build(["-t", "app"]).errors)
        #expect(added.misses["[builder 5/6] COPY src/ ./src/"] == "src/new.c added")
        chmod(sandbox.context + "/src/new.c", 0o755)
        let mode = CacheLog(try sandbox.build(["-t", "app"]).errors)
        #expect(mode.misses["[builder 5/6] COPY src/ ./src/"] == "src/new.c mode changed 644 → 755")
    }

    @Test("a build arg invalidates only the steps that see it, and the miss names it")
    func buildArgument() throws {
        let sandbox = try BuildSandbox("cache-arg")
        try sandbox.write(Self.files)
        try #require(try sandbox.build(["-t", "app"]).status == 0)
        let result = try sandbox.build(["-t", "app", "--build-arg", "VERSION=1.3", "--explain-cache"])
        try #require(result.status == 0, "\(result.errors)")
        let log = CacheLog(result.errors)
        #expect(log.cached.contains("[builder 2/6] WORKDIR /src"))
        #expect(log.cached.contains("[builder 3/6] COPY deps.txt ."))
        #expect(log.misses["[builder 4/6] RUN echo ran-deps && cp deps.txt /deps-installed"] == "ARG VERSION changed 1.2 → 1.3")
        #expect(log.output == ["ran-deps", "ran-build-1.3"])
        #expect(result.output.contains("Cache explanation"))
        #expect(result.output.contains("    ARG VERSION changed 1.2 → 1.3"))
        #expect(result.output.contains("[builder 2/6] WORKDIR /src: hit"))
    }

    @Test("--no-cache runs everything, --no-cache-filter only the named stage; both say why")
    func noCache() throws {
        let sandbox = try BuildSandbox("cache-nocache")
        try sandbox.write(Self.files)
        try #require(try sandbox.build(["-t", "app"]).status == 0)
        let all = try sandbox.build(["-t", "app", "--no-cache"])
        try #require(all.status == 0, "\(all.errors)")
        let allLog = CacheLog(all.errors)
        #expect(allLog.cached.isEmpty)
        #expect(allLog.misses.values.allSatisfy { $0 == "--no-cache" })
        #expect(allLog.output == ["ran-deps", "ran-build-1.2"])

        let filtered = try sandbox.build(["-t", "app", "--no-cache-filter", "stage-1"])
        try #require(filtered.status == 0, "\(filtered.errors)")
        let log = CacheLog(filtered.errors)
        #expect(log.cached.contains("[builder 6/6] RUN echo ran-build-$VERSION && cat src/*.c > /program"))
        #expect(log.misses["[stage-1 3/3] COPY config.ini /app/"] == "--no-cache-filter")
        #expect(log.output.isEmpty)
    }

    @Test("kiln cache ls, du and prune: records listed, pruned records are rebuilt and say so, images survive")
    func pruning() throws {
        let sandbox = try BuildSandbox("cache-prune")
        try sandbox.write(Self.files)
        try #require(try sandbox.build(["-t", "app"]).status == 0)
        let list = try sandbox.kiln(["cache", "ls"])
        #expect(list.status == 0)
        #expect(list.output.contains("[builder 6/6] RUN echo ran-build-$VERSION"))
        #expect(try sandbox.kiln(["cache", "du"]).output.contains("Records:\t7"))

        let kept = try sandbox.kiln(["cache", "prune", "--filter", "until=24h"])
        #expect(kept.status == 0)
        #expect(!kept.output.contains("Deleted"))
        let pruned = try sandbox.kiln(["cache", "prune", "-f"])
        #expect(pruned.status == 0, "\(pruned.errors)")
        #expect(pruned.output.contains("Deleted"))
        #expect(try sandbox.kiln(["cache", "du"]).output.contains("Records:\t0"))
        #expect(try sandbox.kiln(["fsck"]).status == 0)
        #expect(try sandbox.run("app", "cat /app/program").output.contains("int main()"))

        let rebuilt = try sandbox.build(["-t", "app"])
        try #require(rebuilt.status == 0, "\(rebuilt.errors)")
        let log = CacheLog(rebuilt.errors)
        #expect(log.cached.isEmpty)
        // The first step after the base: nothing differs, the record is gone. (Later steps may say their parent
        // changed: a re-run step's layer holds new directory times.)
        #expect(log.misses["[builder 2/6] WORKDIR /src"]?.hasPrefix("no cache record") == true)
        #expect(try sandbox.kiln(["cache", "prune", "--keep-storage", "1GB"]).output.contains("Total:"))
        #expect(try sandbox.kiln(["cache", "du"]).output.contains("Records:\t7"))
    }

    @Test("a fresh store with --cache-from type=registry re-executes nothing", .enabled(if: LoopbackRegistry.isAvailable, "needs docker-registry"))
    func registryCache() throws {
        let registry = try LoopbackRegistry()
        let sandbox = try BuildSandbox("cache-registry-a")
        try sandbox.write(Self.files)
        let reference = "\(registry.host)/cache/app:buildcache"
        let exported = try sandbox.build(["-t", "app", "--cache-to", "type=registry,ref=\(reference),mode=max"])
        try #require(exported.status == 0, "\(exported.errors)")
        #expect(exported.errors.contains("exported cache to \(reference): 7 records"))

        // Another machine with the same base image (each sandbox makes its own busybox, with new file times).
        let fresh = try BuildSandbox("cache-registry-b")
        try fresh.write(Self.files)
        let archive = sandbox.scratch.path + "/busybox.tar"
        try #require(try sandbox.kiln(["save", "-o", archive, "busybox:1"]).status == 0)
        try #require(try fresh.kiln(["load", "-i", archive]).status == 0)
        let result = try fresh.build(["-t", "app", "--cache-from", "type=registry,ref=\(reference)"])
        try #require(result.status == 0, "\(result.errors)")
        let log = CacheLog(result.errors)
        #expect(log.misses.isEmpty, "\(log.misses)")
        #expect(log.cached.count == 7)
        #expect(log.output.isEmpty)
        #expect(try fresh.run("app", "cat /app/program").output.contains("int main()"))

        // mode=min carries only the image's own steps; a missing cache is a warning, not a failure.
        let minimal = try sandbox.build(["-t", "app", "--cache-to", "type=registry,ref=\(registry.host)/cache/app:min"])
        #expect(minimal.errors.contains("exported cache to \(registry.host)/cache/app:min: 2 records"))
        let missing = try fresh.build(["-t", "app", "--cache-from", "\(registry.host)/cache/none:latest"])
        #expect(missing.status == 0)
        #expect(missing.errors.contains("warning: cannot import cache"))
    }

    @Test("RUN --mount=type=cache contents exported with cache-mounts=true are warm in another store")
    func cacheMountExport() throws {
        let files = [
            "Dockerfile": """
                FROM busybox:1
                RUN --mount=type=cache,id=packages,target=/var/cache/pkg \\
                    if [ -f /var/cache/pkg/downloaded ]; then echo cache-was-warm; else echo cache-was-cold; echo x > /var/cache/pkg/downloaded; fi
                """,
        ]
        let first = try BuildSandbox("cache-mount-a")
        try first.write(files)
        let directory = first.scratch.path + "/exported-cache"
        let exported = try first.build(["-t", "app", "--cache-to", "type=local,dest=\(directory),cache-mounts=true"])
        try #require(exported.status == 0, "\(exported.errors)")
        #expect(CacheLog(exported.errors).output == ["cache-was-cold"])
        #expect(exported.errors.contains("1 cache mounts"))

        let second = try BuildSandbox("cache-mount-b")
        try second.write(files)
        let warm = try second.build(["-t", "app", "--no-cache", "--cache-from", "type=local,src=\(directory)"])
        try #require(warm.status == 0, "\(warm.errors)")
        #expect(CacheLog(warm.errors).output == ["cache-was-warm"])
        #expect(try second.kiln(["cache", "ls"]).output.contains("exec.cachemount"))
    }

    @Test("cache flags are checked before building", arguments: [
        ["--cache-to", "type=inline"], ["--cache-to", "type=local"], ["--cache-from", "type=gha"], ["--cache-to", "type=local,dest=/x,mode=all"],
    ])
    func invalidFlags(_ flags: [String]) throws {
        let sandbox = try BuildSandbox("cache-flags")
        try sandbox.write(Self.files)
        let result = try sandbox.build(flags)
        #expect(result.status != 0)
        #expect(result.errors.contains(flags[0]))
    }

    @Test("a bind mount of the context hides what .dockerignore leaves out; changes to ignored files keep the cache")
    func bindMountIgnoresExcludedFiles() throws {
        let sandbox = try BuildSandbox("cache-bind-ignore")
        try sandbox.write([
            "Dockerfile": """
                FROM busybox:1
                RUN --mount=type=bind,target=/ctx \\
                    test ! -e /ctx/secret.env && test ! -e /ctx/logs/a.log && test -e /ctx/logs/keep.log && \\
                    test ! -e /ctx/build && echo "saw $(cat /ctx/app.txt)"
                """,
            ".dockerignore": "secret.env\nlogs/*.log\n!logs/keep.log\nbuild\n",
            "app.txt": "v1",
            "secret.env": "TOKEN=1",
            "logs/a.log": "a",
            "logs/keep.log": "k",
            "build/out.o": "o",
        ])
        let first = try sandbox.build(["-t", "app"])
        try #require(first.status == 0, "\(first.errors)")
        #expect(CacheLog(first.errors).output == ["saw v1"])

        try sandbox.write(["secret.env": "TOKEN=2", "logs/a.log": "changed", "build/new.o": "n"])
        let ignored = try sandbox.build(["-t", "app"])
        #expect(CacheLog(ignored.errors).cached.count == 1, "\(ignored.errors)")

        try sandbox.write(["app.txt": "v2"])
        let changed = try sandbox.build(["-t", "app"])
        let log = CacheLog(changed.errors)
        #expect(log.output == ["saw v2"])
        #expect(log.misses.values.first == "app.txt content changed")
    }
}
