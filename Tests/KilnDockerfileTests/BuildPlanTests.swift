import Testing
@testable import KilnDockerfile
import KilnOCI

@Suite("Stage resolution")
struct BuildPlanTests {
    static let multiStage = """
        ARG BASE=busybox
        ARG VERSION=1
        FROM ${BASE}:${VERSION} AS deps
        RUN echo deps
        FROM gcc:12 AS builder
        COPY --from=deps /x /x
        RUN make
        FROM busybox AS test
        RUN false
        FROM builder AS lint
        FROM scratch
        COPY --from=builder /app /app
        """

    func plan(_ source: String, _ options: BuildOptions = BuildOptions()) throws -> BuildPlan {
        try BuildPlan(dockerfile: try Dockerfile(source: source), options: options)
    }

    @Test("the last stage is the default target and unneeded stages are left out")
    func defaultTarget() throws {
        let plan = try plan(Self.multiStage)
        #expect(plan.target == 4)
        #expect(plan.order == [0, 1, 4])
    }

    @Test("--target builds only what the target needs", arguments: [
        ("deps", [0]), ("builder", [0, 1]), ("test", [2]), ("lint", [0, 1, 3]), ("BUILDER", [0, 1]),
    ])
    func target(_ name: String, _ expected: [Int]) throws {
        #expect(try plan(Self.multiStage, BuildOptions(target: name)).order == expected)
    }

    @Test("global args expand in FROM and --build-arg overrides their defaults")
    func globalArgs() throws {
        #expect(try plan(Self.multiStage).stages[0].base == .image("busybox:1"))
        let overridden = try plan(Self.multiStage, BuildOptions(buildArgs: ["VERSION": "2", "BASE": "alpine"]))
        #expect(overridden.stages[0].base == .image("alpine:2"))
        #expect(try plan(Self.multiStage).stages[3].base == .stage(1))
    }

    @Test("build args no needed stage declares are reported as not consumed")
    func unconsumedArgs() throws {
        let options = BuildOptions(target: "deps", buildArgs: ["VERSION": "2", "http_proxy": "x", "NOPE": "1"])
        #expect(try plan(Self.multiStage + "\nARG LATE\n", options).unconsumedBuildArgs == ["NOPE"])
    }

    @Test("predefined platform args are usable in FROM")
    func platformArgs() throws {
        let options = BuildOptions(targetPlatform: Platform(os: "linux", architecture: "arm64"))
        let plan = try plan("FROM --platform=$BUILDPLATFORM busybox AS b\nFROM alpine:$TARGETARCH\n", options)
        #expect(plan.stages[1].base == .image("alpine:arm64"))
        #expect(plan.stages[0].platform == .host)
        #expect(plan.stages[1].platform.architecture == "arm64")
    }

    @Test("errors name the problem and the line", arguments: [
        ("FROM a AS x\nCOPY --from=x /a /a\n", "circular dependency detected on stage: x", 1),
        ("FROM a AS x\nCOPY --from=y /a /a\nFROM b AS y\nCOPY --from=x /b /b\n", "circular dependency detected on stage: x", 1),
        ("FROM a\nCOPY --from=3 /a /a\n", "invalid stage index 3", 2),
        ("FROM a\nCOPY --from=$X /a /a\n", "variable expansion is not supported for --from", 2),
        ("FROM a\nRUN --mount=from=$X,target=/a true\n", "'from' doesn't support variable expansion", 2),
        ("ARG X\nFROM ${X}\n", "base name (${X}) should not be blank", 2),
        ("FROM --platform=linux/amd64/v1/x a\n", "failed to parse platform", 1),
        ("FROM Busybox\n", "failed to parse stage name \"Busybox\": invalid reference format: repository name (library/Busybox) must be lowercase", 1),
        ("FROM a\nCOPY --from=Bad:tag /a /a\n", "failed to parse stage name \"Bad:tag\"", 1),
        ("FROM a AS first\nCOPY --from=second /a /a\nFROM b AS second\n", "cannot copy from stage \"second\", it needs to be defined before current stage \"first\"", 1),
    ])
    func errors(_ source: String, _ message: String, _ line: Int) throws {
        do {
            var options = BuildOptions()
            if source.contains("AS first") { options.target = "first" }
            _ = try plan(source, options)
            Issue.record("accepted")
        } catch let error as DockerfileError {
            #expect(error.message.contains(message))
            #expect(error.range?.start.line == line)
        } catch let error as DockerfileDiagnostics {
            #expect(error.description.contains(message))
            #expect(error.errors.first?.range?.start.line == line)
        }
    }

    @Test("an unknown target is an error with a suggestion")
    func unknownTarget() throws {
        #expect(throws: DockerfileError("target stage \"buildr\" could not be found (did you mean builder?)")) {
            try plan(Self.multiStage, BuildOptions(target: "buildr"))
        }
    }

    @Test("instructions before the first FROM other than ARG are rejected")
    func noStage() throws {
        #expect(throws: DockerfileDiagnostics.self) { try Dockerfile(source: "RUN true\nFROM a\n") }
    }
}
