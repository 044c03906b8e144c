import Foundation
import KilnTestSupport
import Testing
@testable import KilnDockerfile

/// Mutates the corpora and checks that every input is either accepted or rejected with a positioned error:
/// no crash, no hang. `KILN_FUZZ_ITERATIONS` raises the count (`bench/fuzz-parser.sh` runs a million),
/// `KILN_FUZZ_SEED` picks another sequence.
@Suite("Fuzzing the frontend")
struct FuzzTests {
    static let iterations = Int(ProcessInfo.processInfo.environment["KILN_FUZZ_ITERATIONS"] ?? "") ?? 10_000
    static let seed = UInt64(ProcessInfo.processInfo.environment["KILN_FUZZ_SEED"] ?? "") ?? 0x6b696c6e

    static let fragments: [String] = [
        "\\\n", "\\", "`\n", "\"", "'", "$", "${", "}", "${A:-x}", "${A:?boom}", "${A//a/b}", "${A#*}", "${A%%?}",
        "<<EOF\n", "<<-'EOF'\n", "EOF\n", "\tEOF\n", "3<<X\n", "[", "]", "[\"a\", 1]", "[\"sh\", \"-c\"]", "\n", "\r\n",
        "--", "--mount=type=cache,target=/c", "--mount=type=secret,id=s,required", "--network=none", "--from=0",
        "--from=x", "--chown=1:1", "--chmod=u+x", "--link", "--platform=$BUILDPLATFORM", "#", "# escape=`\n",
        "# syntax=docker/dockerfile:1\n", "\t", " ", "FROM a AS b\n", "FROM b\n", "COPY --from=b /x /y\n",
        "ONBUILD ", "ONBUILD ONBUILD RUN x\n", "HEALTHCHECK --interval=1ns CMD x\n", "ARG X=${Y:-z}\n",
        "ENV A=1 B\n", "LABEL \"a b\"=c\n", "\u{0}", "é", "한", "\u{FEFF}", "\u{85}", "=", ":", ",", "@sha256:",
        "EXPOSE 80-70\n", "STOPSIGNAL SIGKILL\n", "SHELL sh\n", "WORKDIR ../..\n", "USER\n", "VOLUME [\"\"]\n",
    ]

    static let corpus: [String] = {
        var sources: [String] = []
        let fileManager = FileManager.default
        for folder in ["buildkit-parser/testfiles", "buildah/testdata", "buildah/inline-dockerfiles"] {
            let root = Conformance.url(folder)
            guard let walker = fileManager.enumerator(atPath: root.path) else { continue }
            for case let path as String in walker where path.hasSuffix("Dockerfile") || path.contains("Dockerfile.") {
                if let data = fileManager.contents(atPath: root.appendingPathComponent(path).path) {
                    sources.append(String(decoding: data, as: UTF8.self))
                }
            }
        }
        let seeds = Conformance.packageRoot.appendingPathComponent("Tests/Fixtures/seeds")
        for name in (try? fileManager.contentsOfDirectory(atPath: seeds.path)) ?? [] where name.hasSuffix(".Dockerfile") {
            if let data = fileManager.contents(atPath: seeds.appendingPathComponent(name).path) {
                sources.append(String(decoding: data, as: UTF8.self))
            }
        }
        return sources
    }()

    @Test("mutated Dockerfiles are accepted or rejected with a position", .timeLimit(.minutes(10)))
    func mutations() throws {
        try #require(Self.corpus.count > 100, "corpus too small: \(Self.corpus.count)")
        var random = SplitMix64(seed: Self.seed)
        var accepted = 0
        var rejected = 0
        for iteration in 0..<Self.iterations {
            let original = Self.corpus[Int(random.next() % UInt64(Self.corpus.count))]
            let input = mutate(original, using: &random)
            switch Self.outcome(of: input) {
            case .accepted: accepted += 1
            case .rejected: rejected += 1
            case .unpositioned(let message):
                Issue.record("iteration \(iteration): error without position: \(message)\ninput:\n\(input)")
                return
            }
        }
        print("fuzz: \(Self.iterations) inputs, \(accepted) accepted, \(rejected) rejected with a position")
        #expect(accepted > 0 && rejected > 0)
    }

    enum Outcome {
        case accepted, rejected
        case unpositioned(String)
    }

    static func outcome(of source: String) -> Outcome {
        let dockerfile: Dockerfile
        do {
            dockerfile = try Dockerfile(source: source)
        } catch {
            let unpositioned = error.errors.filter { $0.range == nil }
            return unpositioned.isEmpty ? .rejected : .unpositioned(unpositioned[0].message)
        }
        do {
            let plan = try BuildPlan(dockerfile: dockerfile, options: BuildOptions(buildArgs: ["A": "aa"]))
            _ = try Lowering.lower(plan)
            return .accepted
        } catch {
            return error.range == nil ? .unpositioned(error.message) : .rejected
        }
    }

    func mutate(_ source: String, using random: inout SplitMix64) -> String {
        var bytes = Array(source.utf8)
        for _ in 0..<(1 + random.next() % 4) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count + 1))
            switch random.next() % 6 {
            case 0 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + Int(random.next() % 8))
                if position < end { bytes.removeSubrange(position..<end) }
            case 1:
                bytes.insert(UInt8(truncatingIfNeeded: random.next() % 128), at: position)
            case 2:
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                if lines.count > 1 {
                    let a = Int(random.next() % UInt64(lines.count)), b = Int(random.next() % UInt64(lines.count))
                    lines.swapAt(a, b)
                    bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
                }
            case 3 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: random.next())
            default:
                let fragment = Self.fragments[Int(random.next() % UInt64(Self.fragments.count))]
                bytes.insert(contentsOf: Array(fragment.utf8), at: position)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
