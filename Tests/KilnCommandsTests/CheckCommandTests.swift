import Foundation
import Testing

/// Drives the real `kiln` binary.
@Suite("kiln check")
struct CheckCommandTests {
    /// Writes the Dockerfile (and other files) into a scratch context and runs `kiln check` on it.
    func run(_ arguments: [String], dockerfile: String, files: [String: String] = [:]) throws -> KilnProcess.Result {
        let context = try ScratchDirectory("check")
        try dockerfile.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        for (name, contents) in files {
            try contents.write(toFile: context.path + "/" + name, atomically: true, encoding: .utf8)
        }
        return try KilnProcess.run(KilnProcess.executable.path, ["check"] + arguments + [context.path])
    }

    static let multiStage = """
        FROM gcc:12 AS builder
        RUN make
        FROM busybox AS tests
        RUN false
        FROM scratch
        COPY --from=builder /app /app
        """

    @Test("prints the stage plan and leaves out stages the target does not need")
    func plan() throws {
        let result = try run([], dockerfile: Self.multiStage)
        #expect(result.status == 0)
        #expect(result.output.contains("1. builder  FROM gcc:12"))
        #expect(result.output.contains("2. stage-2  FROM scratch"))
        #expect(result.output.contains("skipped (not needed by the target): tests"))
        #expect(result.output.contains("digest sha256:"))
    }

    @Test("--target and --build-arg")
    func targetAndArgs() throws {
        let result = try run(["--target", "tests", "--build-arg", "V=2"], dockerfile: "ARG V=1\nFROM busybox:$V AS tests\n")
        #expect(result.status == 0)
        #expect(result.output.contains("FROM busybox:2"))
    }

    @Test("a bad Dockerfile exits 2 with a positioned error and the offending line")
    func badDockerfile() throws {
        let result = try run([], dockerfile: "FROM busybox\nCOPY --chownn=1 a b\n")
        #expect(result.status == 2)
        #expect(result.errors.contains("Dockerfile:2:6: error: unknown flag: --chownn (did you mean chown?)"))
        #expect(result.errors.contains("2 | COPY --chownn=1 a b"))
    }

    @Test("an unknown target exits 2")
    func unknownTarget() throws {
        let result = try run(["--target", "nope"], dockerfile: Self.multiStage)
        #expect(result.status == 2)
        #expect(result.errors.contains("target stage \"nope\" could not be found"))
    }

    @Test("the .dockerignore patterns become the context's excludes and change the graph")
    func dockerignore() throws {
        let source = "FROM busybox\nCOPY . /src\n"
        let without = try run([], dockerfile: source)
        let with = try run([], dockerfile: source, files: [".dockerignore": "# comment\n*.o\n!keep.o\n"])
        #expect(without.status == 0 && with.status == 0)
        #expect(without.output.split(separator: "\n").last != with.output.split(separator: "\n").last)
    }
}
