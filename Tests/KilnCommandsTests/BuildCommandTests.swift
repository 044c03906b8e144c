import Foundation
import KilnTestSupport
import Testing

private let buildsAvailable = geteuid() == 0 && BusyboxRootfs.binary != nil && (KilnProcess.has("crun") || KilnProcess.has("runc"))

/// A scratch store with `busybox:1`, and a context directory to write Dockerfiles into.
final class BuildSandbox: Sendable {
    let scratch: ScratchDirectory
    let root: String
    let context: String

    init(_ name: String) throws {
        scratch = try ScratchDirectory(name)
        root = scratch.path + "/root"
        context = scratch.path + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        try BusyboxRootfs.make(at: scratch.path + "/busybox")
        let imported = try KilnProcess.kiln(["import", "--change", "CMD [\"sh\"]", scratch.path + "/busybox", "busybox:1"], root: root)
        guard imported.status == 0 else { throw BusyboxError(imported.errors) }
    }

    /// Writes `files` (relative path → contents) into the context.
    func write(_ files: [String: String]) throws {
        for (path, contents) in files {
            let full = context + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: full, atomically: false, encoding: .utf8)
        }
    }

    @discardableResult
    func build(_ arguments: [String], input: Data? = nil) throws -> KilnProcess.Result {
        try KilnProcess.kiln(["build", "--progress", "plain"] + arguments + [input == nil ? context : "-"], root: root, input: input)
    }

    func kiln(_ arguments: [String]) throws -> KilnProcess.Result {
        try KilnProcess.kiln(arguments, root: root)
    }

    /// The image's config as `kiln inspect` prints it.
    func inspect(_ image: String) throws -> [String: Any] {
        let output = try kiln(["inspect", image]).output
        let list = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
        return list?.first ?? [:]
    }

    /// The final filesystem of `image`, exported with `--output type=local` by rebuilding nothing: `kiln run` lists it.
    func run(_ image: String, _ script: String) throws -> KilnProcess.Result {
        try kiln(["run", "--rm", image, "sh", "-c", script])
    }
}

@Suite("kiln build", .enabled(if: buildsAvailable, "needs root, busybox-static and crun or runc (installed by scripts/test.sh)"), .serialized)
struct BuildCommandTests {
    @Test("a multi-stage build: only the binary reaches the scratch image, config and history as docker makes them")
    func multiStage() throws {
        let sandbox = try BuildSandbox("build-multistage")
        try sandbox.write([
            "Dockerfile": """
                FROM busybox:1 AS builder
                WORKDIR /src
                COPY tool.sh .
                RUN mkdir -p /out && cp tool.sh /out/tool && chmod 755 /out/tool && echo compiled > /out/marker
                RUN true

                FROM busybox:1 AS unused
                RUN exit 1

                FROM scratch
                COPY --from=builder /out/ /app/
                COPY --from=busybox:1 /bin/busybox /bin/sh
                ENV MODE=production
                WORKDIR /app
                USER 1000:1000
                LABEL org.example.kind=demo
                ENTRYPOINT ["/bin/sh", "/app/tool"]
                """,
            "tool.sh": "echo tool running as $(id -u 2>/dev/null || echo 1000)\n",
        ])
        let exported = sandbox.scratch.path + "/exported"
        let result = try sandbox.build(["-t", "demo:1", "--label", "extra=yes", "-o", "type=image", "-o", "type=local,dest=\(exported)"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(!result.errors.contains("unused"), "the unused stage must not be built")
        #expect(result.output.contains("builder (busybox:1)"))
        #expect(result.output.contains("<- image"))
        let image = try sandbox.inspect("demo:1")
        let config = image["Config"] as? [String: Any] ?? [:]
        #expect(config["Entrypoint"] as? [String] == ["/bin/sh", "/app/tool"])
        #expect(config["WorkingDir"] as? String == "/app")
        #expect(config["User"] as? String == "1000:1000")
        #expect((config["Env"] as? [String])?.contains("MODE=production") == true)
        #expect((config["Labels"] as? [String: String]) == ["org.example.kind": "demo", "extra": "yes"])
        let history = image["History"] as? [[String: Any]] ?? []
        let layered = history.filter { ($0["empty_layer"] as? Bool) != true }
        let layers = (image["RootFS"] as? [String: Any])?["Layers"] as? [String] ?? []
        #expect(layers.count == 2, "two COPY layers (WORKDIR /app already exists, so it adds none)")
        #expect(layered.count == layers.count)
        #expect(try FileManager.default.contentsOfDirectory(atPath: exported).sorted() == ["app", "bin"], "no sources in the final image")
        #expect(try FileManager.default.contentsOfDirectory(atPath: exported + "/app").sorted() == ["marker", "tool"])
        let run = try sandbox.kiln(["run", "--rm", "demo:1"])
        #expect(run.output == "tool running as 1000\n", "\(run.errors)")
    }

    @Test("COPY and ADD follow docker's rules")
    func copySemantics() throws {
        let sandbox = try BuildSandbox("build-copy")
        try FileManager.default.createDirectory(atPath: sandbox.context + "/archive-src/inner", withIntermediateDirectories: true)
        try "packed\n".write(toFile: sandbox.context + "/archive-src/inner/file", atomically: false, encoding: .utf8)
        try KilnProcess.run("tar", ["-C", sandbox.context + "/archive-src", "-czf", sandbox.context + "/bundle.tar.gz", "inner"])
        try sandbox.write([
            ".dockerignore": "secret.txt\narchive-src\n",
            "secret.txt": "do not ship\n",
            "dir/a.txt": "a\n",
            "dir/sub/b.txt": "b\n",
            "one.conf": "1\n",
            "two.conf": "2\n",
            "notes.md": "n\n",
            "Dockerfile": """
                FROM busybox:1
                RUN echo 'svc:x:1234:2345::/:/bin/sh' >> /etc/passwd && echo 'appgroup:x:2345:' >> /etc/group && mkdir /existing
                COPY dir/ /contents/
                COPY dir /as-dir-too
                COPY one.conf /existing
                COPY *.conf /confs/
                COPY --chown=svc --chmod=640 notes.md /notes/
                COPY --chmod=u+x,go-w one.conf /modes/sym
                COPY --exclude=*.txt dir/ /excluded/
                COPY --parents dir/sub/b.txt /parents/
                ADD bundle.tar.gz /unpacked/
                COPY <<EOF /heredoc.txt
                from a heredoc
                EOF
                """,
        ])
        let result = try sandbox.build(["-t", "copy:1"])
        #expect(result.status == 0, "\(result.errors)")
        let check = try sandbox.run("copy:1", """
            set -e
            ls /contents | tr '\\n' ' '; echo
            ls /as-dir-too | tr '\\n' ' '; echo
            cat /existing/one.conf
            ls /confs | tr '\\n' ' '; echo
            stat -c '%u:%g %a' /notes/notes.md
            stat -c '%a' /modes/sym
            find /excluded | sort | tr '\\n' ' '; echo
            find /parents -type f
            cat /unpacked/inner/file
            cat /heredoc.txt
            stat -c '%u:%g' /contents/a.txt
            test ! -e /secret.txt && echo no-secret
            """)
        let lines = check.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(check.status == 0, "\(check.output) \(check.errors)")
        #expect(lines.count >= 12, "\(check.output)")
        guard lines.count >= 12 else { return }
        #expect(lines[0] == "a.txt sub ")
        #expect(lines[1] == "a.txt sub ")
        #expect(lines[2] == "1")
        #expect(lines[3] == "one.conf two.conf ")
        #expect(lines[4] == "1234:2345 640")
        #expect(lines[5] == "744")
        // `*` never crosses `/`: only top-level .txt files are excluded, as with BuildKit's matcher.
        #expect(lines[6] == "/excluded /excluded/sub /excluded/sub/b.txt ")
        #expect(lines[7] == "/parents/dir/sub/b.txt")
        #expect(lines[8] == "packed")
        #expect(lines[9] == "from a heredoc")
        #expect(lines[10] == "0:0")
        #expect(lines[11] == "no-secret")
    }

    @Test("a missing source names the line and says when .dockerignore excluded it; nothing is tagged")
    func missingSource() throws {
        let sandbox = try BuildSandbox("build-missing")
        try sandbox.write([".dockerignore": "config.json\n", "config.json": "{}", "Dockerfile": "FROM busybox:1\nCOPY config.json /etc/app/\n"])
        let result = try sandbox.build(["-t", "missing:1"])
        #expect(result.status == 1)
        #expect(result.errors.contains("Dockerfile:2"), "\(result.errors)")
        #expect(result.errors.contains("\"/config.json\": not found (it is excluded by .dockerignore)"), "\(result.errors)")
        #expect(try sandbox.kiln(["inspect", "missing:1"]).status != 0)
    }

    @Test("a failing RUN reports the step, the exit code and its last output; nothing is tagged")
    func failingRun() throws {
        let sandbox = try BuildSandbox("build-failing")
        // A step follows the failing one, so its network is ready when the build fails: it must go too.
        try sandbox.write(["Dockerfile": "FROM busybox:1\nRUN true\nRUN echo about to fail && exit 3\nRUN true\n"])
        let result = try sandbox.build(["-t", "failing:1"])
        #expect(result.status == 1)
        #expect(result.errors.contains("about to fail"))
        #expect(result.errors.contains("Dockerfile:3"))
        #expect(result.errors.contains("did not complete successfully: exit code: 3"), "\(result.errors)")
        #expect(try sandbox.kiln(["inspect", "failing:1"]).status != 0)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: sandbox.root + "/executions")) ?? [] == [])
    }

    @Test("an unchanged RUN adds no layer and its history entry is empty_layer")
    func emptyRun() throws {
        let sandbox = try BuildSandbox("build-empty")
        try sandbox.write(["Dockerfile": "FROM busybox:1\nRUN true\nRUN echo x > /x\nRUN <<EOF\necho from heredoc > /h\nEOF\n"])
        let result = try sandbox.build(["-t", "empty:1"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(try sandbox.run("empty:1", "cat /h").output == "from heredoc\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.root + "/executions") == [])
        let image = try sandbox.inspect("empty:1")
        let history = image["History"] as? [[String: Any]] ?? []
        let runTrue = history.first { ($0["created_by"] as? String)?.contains("RUN /bin/sh -c true") == true }
        #expect(runTrue?["empty_layer"] as? Bool == true)
        let layers = (image["RootFS"] as? [String: Any])?["Layers"] as? [String] ?? []
        #expect(layers.count == 3)
        // docker's management-command spelling and --format, as scripts use them.
        #expect(try sandbox.kiln(["image", "inspect", "-f", "{{json .RepoTags}} {{len .RootFS.Layers}}", "empty:1"]).status != 0)
        #expect(try sandbox.kiln(["image", "inspect", "-f", "{{json .RepoTags}} {{index .RootFS.Layers 2}}", "empty:1"]).output
            == "[\"empty:1\"] \(layers.last ?? "")\n")
        #expect(try sandbox.kiln(["image", "ls"]).output.contains("empty "))
    }

    @Test(
        "ADD <url> checks --checksum and keeps the server's time with mode 600; ADD <git> checks out the reference",
        .enabled(if: KilnProcess.has("git") && KilnProcess.has("python3"), "needs git and python3 (installed by scripts/test.sh)"))
    func remoteSources() throws {
        let sandbox = try BuildSandbox("build-remote")
        let served = sandbox.scratch.path + "/served"
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try "downloaded\n".write(toFile: served + "/file.txt", atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_577_934_245)], ofItemAtPath: served + "/file.txt")
        // A repository with tag v1 (sub/a = one) and a later commit (sub/a = two), served over git's dumb HTTP.
        let git = "git -c user.name=kiln -c user.email=kiln@test -c init.defaultBranch=main"
        let made = try KilnProcess.run("/bin/sh", ["-c",
            """
            set -e; cd \(sandbox.scratch.path); \(git) init -q work; cd work; mkdir sub; echo one > sub/a; echo top > top
            \(git) add .; \(git) commit -qm one; \(git) tag v1; echo two > sub/a; \(git) commit -qam two
            \(git) clone -q --bare . \(served)/repo.git; \(git) -C \(served)/repo.git update-server-info
            """])
        try #require(made.status == 0, "\(made.errors)")
        let server = try StaticFileServer(directory: served)
        let sha = "sha256:" + (try KilnProcess.run("sha256sum", [served + "/file.txt"]).output.prefix(64))
        try sandbox.write([
            "Dockerfile": """
                FROM busybox:1
                ADD --checksum=\(sha) \(server.baseURL)/file.txt /downloads/
                ADD \(server.baseURL)/repo.git#v1:sub /src
                ADD --keep-git-dir=true \(server.baseURL)/repo.git /full
                """
        ])
        let result = try sandbox.build(["-t", "remote:1"])
        #expect(result.status == 0, "\(result.errors)")
        let listing = try sandbox.run(
            "remote:1", "stat -c '%a %Y' /downloads/file.txt; cat /downloads/file.txt /src/a; ls /src; cat /full/sub/a; "
                + "test -d /full/.git && echo full-has-git; test -e /src/.git || echo src-has-none")
        #expect(listing.output == "600 1577934245\ndownloaded\none\na\ntwo\nfull-has-git\nsrc-has-none\n", "\(listing.errors)")

        try sandbox.write(["Dockerfile": "FROM busybox:1\nADD --checksum=sha256:\(String(repeating: "0", count: 64)) \(server.baseURL)/file.txt /f\n"])
        let mismatch = try sandbox.build(["-t", "mismatch:1"])
        #expect(mismatch.status == 1)
        #expect(mismatch.errors.contains("digest mismatch") && mismatch.errors.contains("Dockerfile:2"), "\(mismatch.errors)")
        #expect(try sandbox.kiln(["inspect", "mismatch:1"]).status != 0)
    }

    @Test("independent stages run at the same time")
    func parallelStages() throws {
        let sandbox = try BuildSandbox("build-parallel")
        // Each stage waits for the other's marker in a shared cache mount: this only finishes when both run at once.
        let wait = "touch /sync/$NAME; for i in $(seq 100); do [ -e /sync/$OTHER ] && exit 0; sleep 0.1; done; exit 1"
        try sandbox.write([
            "Dockerfile": """
                FROM busybox:1 AS left
                RUN --mount=type=cache,id=sync,target=/sync NAME=left OTHER=right sh -c '\(wait)'
                FROM busybox:1 AS right
                RUN --mount=type=cache,id=sync,target=/sync NAME=right OTHER=left sh -c '\(wait)'
                FROM busybox:1
                COPY --from=left /etc/passwd /left
                COPY --from=right /etc/passwd /right
                """
        ])
        let result = try sandbox.build(["--jobs", "2"])
        #expect(result.status == 0, "\(result.errors)")
    }

    @Test("secrets are readable by RUN and absent from every byte of the image; cache mounts persist")
    func secretsAndCaches() throws {
        let sandbox = try BuildSandbox("build-secrets")
        let secretValue = "token-\(UUID().uuidString)"
        try secretValue.write(toFile: sandbox.scratch.path + "/token", atomically: false, encoding: .utf8)
        let expected = try KilnProcess.run("sha256sum", [sandbox.scratch.path + "/token"]).output.prefix(64)
        try sandbox.write([
            "Dockerfile": """
                FROM busybox:1
                ARG RUN_ID
                RUN --mount=type=secret,id=token test "$(sha256sum < /run/secrets/token | cut -c1-64)" = \(expected) && cp /run/secrets/token /tmp/copy && rm /tmp/copy
                RUN --mount=type=secret,id=token,env=TOKEN test "$(printf %s "$TOKEN" | sha256sum | cut -c1-64)" = \(expected)
                RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent
                RUN --mount=type=cache,target=/var/cache/app sh -c 'echo $RUN_ID >> /var/cache/app/runs; cat /var/cache/app/runs > /runs'
                """
        ])
        let secretFlag = "id=token,src=\(sandbox.scratch.path)/token"
        // Uncompressed layers, so that searching the archive's bytes would find the secret if a layer held it.
        let uncompressed = ["-o", "type=image,compression=uncompressed"]
        let first = try sandbox.build(["-t", "secret:1", "--secret", secretFlag, "--build-arg", "RUN_ID=one"] + uncompressed)
        #expect(first.status == 0, "\(first.errors)")
        let second = try sandbox.build(["-t", "secret:2", "--secret", secretFlag, "--build-arg", "RUN_ID=two"] + uncompressed)
        #expect(second.status == 0, "\(second.errors)")
        #expect(try sandbox.run("secret:2", "cat /runs").output == "one\ntwo\n")
        let archive = sandbox.scratch.path + "/secret.tar"
        #expect(try sandbox.kiln(["save", "-o", archive, "secret:2"]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        #expect(bytes.range(of: Data(secretValue.utf8)) == nil)
        #expect(bytes.range(of: Data("one\ntwo\n".utf8)) != nil, "the layers are searchable: /runs is in them as plain text")
        #expect(!(try sandbox.kiln(["save", "secret:2"]).output.contains(secretValue)))
        try sandbox.write(["Dockerfile": "FROM busybox:1\nRUN --mount=type=secret,id=token,required=true true\n"])
        let missing = try sandbox.build(["-t", "secret:3"])
        #expect(missing.status == 1 && missing.errors.contains("secret token is required"), "\(missing.errors)")
    }

    @Test("outputs: OCI and docker archives, a local directory, a tar on stdout, --iidfile and --metadata-file; context from stdin")
    func outputs() throws {
        let sandbox = try BuildSandbox("build-outputs")
        try sandbox.write(["Dockerfile": "FROM busybox:1\nRUN echo hi > /greeting\n"])
        let oci = sandbox.scratch.path + "/image-oci.tar", docker = sandbox.scratch.path + "/image-docker.tar"
        let local = sandbox.scratch.path + "/rootfs", iid = sandbox.scratch.path + "/iid", metadata = sandbox.scratch.path + "/meta.json"
        let result = try sandbox.build([
            "-t", "out:1", "-o", "type=oci,dest=\(oci)", "-o", "type=docker,dest=\(docker)", "-o", "type=local,dest=\(local)",
            "--iidfile", iid, "--metadata-file", metadata,
        ])
        #expect(result.status == 0, "\(result.errors)")
        #expect(try String(contentsOfFile: local + "/greeting", encoding: .utf8) == "hi\n")
        let id = try String(contentsOfFile: iid, encoding: .utf8)
        #expect(id == (try sandbox.inspect("out:1")["Id"] as? String))
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metadata))) as? [String: Any]
        #expect(meta?["containerimage.config.digest"] as? String == id)
        for archive in [oci, docker] {
            let loaded = try KilnProcess.kiln(["load", "-i", archive], root: sandbox.scratch.path + "/other-\(archive.hasSuffix("oci.tar"))")
            #expect(loaded.status == 0, "\(loaded.errors)")
        }
        if KilnProcess.has("skopeo") {
            let inspected = try KilnProcess.run("skopeo", ["inspect", "--raw", "oci-archive:\(oci)"])
            #expect(inspected.status == 0, "\(inspected.errors)")
        }
        // A tar context on standard input.
        let contextTar = sandbox.scratch.path + "/context.tar"
        try KilnProcess.run("tar", ["-C", sandbox.context, "-cf", contextTar, "."])
        let fromStdin = try sandbox.build(["-q"], input: try Data(contentsOf: URL(fileURLWithPath: contextTar)))
        #expect(fromStdin.status == 0, "\(fromStdin.errors)")
        #expect(fromStdin.output.hasPrefix("sha256:"))
    }

    @Test("frontend errors are positioned and the exit status is 1")
    func frontendErrors() throws {
        let sandbox = try BuildSandbox("build-frontend")
        try sandbox.write(["Dockerfile": "FROM busybox:1\nCOPY --from=nowhere /x /y\n"])
        let result = try sandbox.build([])
        #expect(result.status == 1)
        #expect(result.errors.contains("Dockerfile:"), "\(result.errors)")
        try sandbox.write(["Dockerfile": "FROM busybox:1\nRUN --network=host true\n"])
        let denied = try sandbox.build([])
        #expect(denied.status == 1 && denied.errors.contains("--allow network.host"), "\(denied.errors)")
        #expect(try sandbox.build(["--allow", "network.host"]).status == 0)
        try sandbox.write(["Dockerfile": "FROM 127.0.0.1:9/nosuchimage:0\n"])
        let unpullable = try sandbox.build([])
        #expect(unpullable.status == 1 && unpullable.errors.contains("Dockerfile:1"), "\(unpullable.errors)")
    }
}
