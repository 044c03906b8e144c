import Foundation
import Testing
@testable import KilnDockerfile

/// Every Dockerfile users bring — the seeds, the lab projects and buildah's conformance builds — must resolve
/// and lower (their images need not exist); the cases buildah expects to fail must fail at the line it names.
@Suite("Real-world Dockerfiles")
struct DockerfileCorpusTests {
    static func check(source: String, buildArgs: [String: String] = [:]) throws -> LoweredBuild {
        let dockerfile = try Dockerfile(source: source)
        let plan = try BuildPlan(dockerfile: dockerfile, options: BuildOptions(buildArgs: buildArgs))
        return try Lowering.lower(plan)
    }

    static let seedFiles: [String] = {
        let folder = Conformance.packageRoot.appendingPathComponent("Tests/Fixtures/seeds")
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".Dockerfile") }.sorted()
    }()

    @Test("seed Dockerfiles", arguments: seedFiles)
    func seed(_ name: String) throws {
        let url = Conformance.packageRoot.appendingPathComponent("Tests/Fixtures/seeds/\(name)")
        let lowered = try Self.check(source: String(contentsOf: url, encoding: .utf8))
        #expect(!lowered.graph.vertices.isEmpty)
    }

    @Test("seed fixtures exist")
    func seedsPresent() {
        #expect(Self.seedFiles.count >= 30)
    }

    @Test("bundled examples", arguments: ["c-static-scratch", "nonroot-busybox", "parallel-builders", "cache-and-secrets"])
    func example(_ name: String) throws {
        let url = Conformance.packageRoot.appendingPathComponent("examples/\(name)/Dockerfile")
        _ = try Self.check(source: String(contentsOf: url, encoding: .utf8))
    }

    @Test("lab projects", arguments: ["p1", "p2", "p3"])
    func labProject(_ name: String) throws {
        let url = Conformance.root.deletingLastPathComponent().appendingPathComponent("lab/projects/\(name)/Dockerfile")
        _ = try Self.check(source: String(contentsOf: url, encoding: .utf8))
    }

    @Test("buildah conformance builds")
    func buildahCases() throws {
        let table = try Conformance.text("buildah/cases.tsv").split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        let header = table[0]
        func column(_ row: [String], _ name: String) -> String { row[header.firstIndex(of: name)!] }
        var cases: [(String, String?)] = []
        for row in table.dropFirst() {
            let id = "\(column(row, "index")) \(column(row, "name"))"
            let path: String
            if !column(row, "dockerfile_contents_file").isEmpty {
                path = "buildah/" + column(row, "dockerfile_contents_file")
            } else if !column(row, "context_dir").isEmpty {
                let file = column(row, "dockerfile")
                path = "buildah/testdata/\(column(row, "context_dir"))/\(file.isEmpty ? "Dockerfile" : file)"
            } else {
                path = "buildah/testdata/" + column(row, "dockerfile")
            }
            let argsJSON = column(row, "build_args")
            let args = argsJSON.isEmpty ? [:] : try JSONSerialization.jsonObject(with: Data(argsJSON.utf8)) as! [String: String]
            let failAt = Int(column(row, "should_fail_at")) ?? 0
            do {
                _ = try Self.check(source: try Conformance.text(path), buildArgs: args)
                cases.append((id, nil))  // cases expected to fail may fail later, when run
            } catch let error as DockerfileDiagnostics {
                let line = error.errors.first?.range?.start.line
                cases.append((id, failAt > 0 && line == failAt ? nil : "rejected at line \(line ?? 0): \(error)"))
            } catch let error as DockerfileError {
                let line = error.range?.start.line
                cases.append((id, failAt > 0 && line == failAt ? nil : "rejected at line \(line ?? 0): \(error)"))
            }
        }
        Conformance.check(corpus: "buildah/cases", cases: cases)
    }
}
