import KilnGraph
import KilnOCI
import Testing
@testable import KilnDockerfile

@Suite("Lowering to the build graph")
struct LoweringTests {
    func lower(_ source: String, _ options: BuildOptions = BuildOptions()) throws -> LoweredBuild {
        try Lowering.lower(try BuildPlan(dockerfile: try Dockerfile(source: source), options: options))
    }

    func execs(_ build: LoweredBuild) -> [ExecOp] {
        build.graph.vertices.compactMap { if case .exec(let exec) = $0.op { return exec } else { return nil } }
    }

    static let app = """
        FROM gcc:12 AS builder
        ARG VERSION=1.0
        ARG UNUSED
        ENV CFLAGS=-O2
        WORKDIR /src
        COPY . .
        RUN make VERSION=$VERSION CFLAGS="$CFLAGS"
        FROM busybox AS other
        RUN echo $UNUSED
        FROM scratch
        COPY --from=builder /src/app /app
        ENTRYPOINT ["/app"]
        """

    @Test("the same Dockerfile and args give the same graph digest")
    func deterministic() throws {
        let first = try lower(Self.app)
        let second = try lower(Self.app)
        #expect(first.digest == second.digest)
        #expect(first.graph.vertices.map(\.digest) == second.graph.vertices.map(\.digest))
    }

    @Test("an arg changes the digest only when a needed step uses it")
    func argInvalidation() throws {
        let base = try lower(Self.app).digest
        #expect(try lower(Self.app, BuildOptions(buildArgs: ["VERSION": "2.0"])).digest != base)
        #expect(try lower(Self.app, BuildOptions(buildArgs: ["NOT_DECLARED": "x"])).digest == base)
    }

    @Test("RUN gets the shell, the expanded command, ARG and ENV values, the working directory")
    func runStep() throws {
        let build = try lower(Self.app, BuildOptions(target: "builder"))
        let exec = try #require(execs(build).first)
        #expect(exec.arguments == ["/bin/sh", "-c", "make VERSION=$VERSION CFLAGS=\"$CFLAGS\""])
        #expect(exec.environment.contains("VERSION=1.0"))
        #expect(exec.environment.contains("CFLAGS=-O2"))
        #expect(exec.environment.contains("PATH=\(Lowering.defaultPath)"))
        #expect(exec.workingDirectory == "/src")
        // Build args reach RUN but not the image config.
        #expect(build.target.config.config.env?.contains("VERSION=1.0") == false)
        #expect(build.target.config.config.env?.contains("CFLAGS=-O2") == true)
    }

    @Test("the final image reads only what it copies from the builder")
    func copyFromStage() throws {
        let build = try lower(Self.app)
        #expect(build.stages.map(\.name) == ["builder", "stage-2"])
        let root = try #require(build.target.root)
        guard case .file(let file) = build.graph[root].op, case .copy(let copy) = file.actions.first else {
            Issue.record("final step is not a copy")
            return
        }
        #expect(copy.sources == ["/src/app"])
        #expect(copy.destination == "/app")
        #expect(file.base == nil)
        let builderRoot = build.stages[0].root
        #expect(build.graph[root].inputs == [builderRoot!])
        #expect(build.target.config.config.entrypoint == ["/app"])
        #expect(build.graph[root].sourceRanges.first?.start.line == 11)
    }

    @Test("SHELL, WORKDIR, USER and ENV shape later steps")
    func stateAcrossInstructions() throws {
        let build = try lower("""
            FROM busybox
            WORKDIR app
            WORKDIR sub/../lib
            SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
            ENV DIR=/data NAME=kiln
            USER ${NAME}
            RUN ls
            """)
        let exec = try #require(execs(build).first)
        #expect(exec.arguments == ["/bin/ash", "-eo", "pipefail", "-c", "ls"])
        #expect(exec.workingDirectory == "/app/lib")
        #expect(exec.user == "kiln")
        #expect(build.target.config.config.workingDir == "/app/lib")
        #expect(build.target.config.config.user == "kiln")
    }

    /// BuildKit's NormalizeWorkdir and empty image: absolute paths as written, relative ones joined and cleaned;
    /// a scratch stage starts in "/"; the directory is made for USER, its group split off.
    @Test("WORKDIR keeps an absolute path as written; scratch starts in /; mkdir belongs to USER")
    func workdirAsBuildKit() throws {
        let scratch = try lower("FROM scratch\nCOPY a /a\n")
        #expect(scratch.target.config.config.workingDir == "/")
        #expect(scratch.target.config.config.env == ["PATH=\(Lowering.defaultPath)"])
        let build = try lower("FROM busybox\nUSER docker:root\nWORKDIR /tmp/\nWORKDIR sub/../x/\n")
        #expect(build.target.config.config.workingDir == "/tmp/x")
        #expect(build.target.config.history.map(\.createdBy).contains("WORKDIR /tmp/"))
        let owners = build.graph.vertices.compactMap { vertex -> Ownership? in
            guard case .file(let file) = vertex.op, case .makeDirectory(let directory) = file.actions.first else { return nil }
            return directory.owner
        }
        #expect(owners == [Ownership(user: "docker", group: "root"), Ownership(user: "docker", group: "root")])
    }

    @Test("config instructions record empty-layer history; filesystem steps record layers")
    func history() throws {
        let build = try lower("FROM busybox\nLABEL a=b\nRUN true\nEXPOSE 80 53/udp\nCMD echo hi\n")
        let entries = build.target.config.history.map { ($0.createdBy ?? "", $0.emptyLayer ?? false) }
        #expect(entries.map(\.0) == ["LABEL a=b", "RUN /bin/sh -c true # buildkit", "EXPOSE 53/udp 80/tcp", "CMD [\"/bin/sh\" \"-c\" \"echo hi\"]"])
        #expect(entries.map(\.1) == [true, false, true, true])
        #expect(build.target.config.config.exposedPorts?.keys.sorted() == ["53/udp", "80/tcp"])
        #expect(build.target.config.config.labels == ["a": "b"])
    }

    @Test("ENTRYPOINT clears a CMD inherited from the base but not one set in the stage")
    func entrypointResetsCmd() throws {
        let inherited = try lower("FROM busybox AS base\nCMD [\"sh\"]\nFROM base\nENTRYPOINT [\"/x\"]\n")
        #expect(inherited.target.config.config.cmd == nil)
        let own = try lower("FROM busybox\nCMD [\"-v\"]\nENTRYPOINT [\"/x\"]\n")
        #expect(own.target.config.config.cmd == ["-v"])
    }

    @Test("RUN mounts: cache, secret, bind from a stage, tmpfs; network and security")
    func mounts() throws {
        let build = try lower("""
            FROM busybox AS src
            FROM busybox
            ARG CACHE=/root/.cache
            RUN --mount=type=cache,target=$CACHE,sharing=locked --mount=type=secret,id=token \\
                --mount=type=bind,from=src,source=/etc,target=/mnt --mount=type=tmpfs,target=/tmp,size=64m \\
                --network=none --security=sandbox true
            """)
        let exec = try #require(execs(build).first)
        #expect(exec.mounts.map(\.kind) == [.cache, .secret, .bind, .tmpfs])
        #expect(exec.mounts[0].target == "/root/.cache")
        #expect(exec.mounts[0].sharing == .locked)
        #expect(exec.mounts[1].target == "/run/secrets/token")
        #expect(exec.mounts[1].readOnly)
        #expect(exec.mounts[2].input == 1)
        #expect(exec.mounts[3].sizeLimit == 64 << 20)
        #expect(exec.network == .none)
    }

    @Test("mount errors found with variables expanded are reported at the RUN line")
    func mountErrors() throws {
        #expect(throws: DockerfileError("unexpected key 'size' for mount type 'cache'", range: SourceRange(lines: 3, 3))) {
            try lower("FROM a\nARG S=1m\nRUN --mount=type=cache,target=/c,size=$S true\n")
        }
    }

    @Test("RUN heredocs: a lone heredoc becomes a script, others go to the shell with their bodies")
    func runHeredocs() throws {
        let build = try lower("FROM busybox\nRUN <<EOF\necho one\nEOF\nRUN cat <<A > /a\nbody\nA\n")
        let runs = execs(build)
        #expect(runs[0].arguments == ["/bin/sh", "/dev/pipes/EOF"])
        #expect(runs[0].inlineFiles.first?.contents == "echo one\n")
        #expect(runs[1].arguments == ["/bin/sh", "-c", "cat <<A > /a\nbody\nA"])
    }

    @Test("COPY heredocs expand variables but keep quotes, unless the delimiter is quoted")
    func copyHeredocs() throws {
        let build = try lower("FROM busybox\nENV NAME=kiln\nCOPY <<EOF <<'RAW' /etc/\n\"$NAME\" it's\nEOF\n$NAME\nRAW\n")
        let root = try #require(build.target.root)
        guard case .file(let file) = build.graph[root].op else {
            Issue.record("not a file op")
            return
        }
        #expect(file.actions == [
            .makeFile(MakeFileAction(path: "/etc/EOF", contents: "\"kiln\" it's\n")),
            .makeFile(MakeFileAction(path: "/etc/RAW", contents: "$NAME\n")),
        ])
    }

    @Test("COPY --link lays an independent layer over the stage with a merge")
    func copyLink() throws {
        let build = try lower("FROM busybox\nCOPY --link a /a\n")
        let root = try #require(build.target.root)
        #expect(build.graph[root].op == .merge)
    }

    @Test("COPY with several sources needs a directory destination")
    func multipleSources() throws {
        #expect(throws: DockerfileError.self) { try lower("FROM busybox\nCOPY a b /dest\n") }
        _ = try lower("FROM busybox\nCOPY a b /dest/\n")
    }

    @Test("ADD sorts remote files, git repositories and local files")
    func addSources() throws {
        let build = try lower("""
            FROM busybox
            ADD --checksum=sha256:abc https://example.invalid/file.tgz /srv/
            ADD https://example.invalid/repo.git#v1:docs /docs
            ADD archive.tar.gz /opt/
            """)
        let ops = build.graph.vertices.map(\.op)
        #expect(ops.contains(.http(HTTPSource(url: "https://example.invalid/file.tgz", checksum: "sha256:abc"))))
        #expect(ops.contains(.git(GitSource(remote: "https://example.invalid/repo.git", reference: "v1", subdirectory: "docs"))))
        #expect(throws: DockerfileError.self) { try lower("FROM a\nADD --checksum=sha256:abc local /x\n") }
    }

    @Test("image references are normalised, so spellings of one image are one vertex")
    func normalisedImages() throws {
        let build = try lower("FROM busybox AS a\nFROM docker.io/library/busybox:latest AS b\nFROM scratch\nCOPY --from=a /x /x\nCOPY --from=b /y /y\n")
        #expect(build.stages[0].root == build.stages[1].root)
        #expect(build.graph[build.stages[0].root!].op == .image(ImageSource(reference: "docker.io/library/busybox:latest", platform: .host)))
    }

    @Test("identical stages are one piece of work")
    func dedup() throws {
        let build = try lower("FROM busybox AS a\nRUN make\nFROM busybox AS b\nRUN make\nFROM scratch\nCOPY --from=a /x /x\nCOPY --from=b /y /y\n")
        #expect(build.stages[0].root == build.stages[1].root)
    }

    @Test("ONBUILD triggers of a base stage run at the start of the stage that uses it")
    func onbuild() throws {
        let build = try lower("FROM busybox AS base\nONBUILD RUN echo triggered\nFROM base\nRUN echo after\n")
        #expect(execs(build).map { $0.arguments.last } == ["echo triggered", "echo after"])
        #expect(build.target.config.config.onBuild == nil)
    }
}
