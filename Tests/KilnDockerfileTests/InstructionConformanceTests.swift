import Foundation
import Testing
@testable import KilnDockerfile

@Suite("BuildKit instructions corpus")
struct InstructionConformanceTests {
    @Test("instruction errors")
    func instructionErrors() throws {
        var cases: [(String, String?)] = []
        for entry in try Conformance.jsonLines("buildkit-instructions/instruction-errors.jsonl") {
            let id = entry["id"] as! String
            let expected = entry["expected_error"] as! String
            let parsed: ParsedDockerfile
            do {
                parsed = try DockerfileParser.parse(entry["dockerfile"] as! String)
            } catch {
                cases.append((id, "parse failed: \(error.message)"))
                continue
            }
            do {
                _ = try InstructionParser.parse(parsed.instructions[0])
                cases.append((id, "accepted"))
            } catch {
                let ok = entry["match"] as! String == "exact" ? error.message == expected : error.message.contains(expected)
                cases.append((id, ok && error.range != nil ? nil : "got \(goQuoted(error.message))"))
            }
        }
        Conformance.check(corpus: "buildkit-instructions/instruction-errors", cases: cases)
    }

    @Test("heredocs in COPY and RUN")
    func heredocInstructions() throws {
        let corpus = try Conformance.json("buildkit-instructions/heredoc-instruction-cases.json") as! [String: Any]
        var cases: [(String, String?)] = []
        for entry in corpus["copy"] as! [[String: Any]] {
            let node = try DockerfileParser.parse(entry["dockerfile"] as! String).instructions[0]
            guard case .copy(let copy) = try InstructionParser.parse(node).kind else {
                cases.append((entry["id"] as! String, "not a COPY"))
                continue
            }
            let contents = (entry["source_contents"] as! [[String: Any]]).map {
                CopySources.InlineSource(path: $0["path"] as! String, data: $0["data"] as! String, expand: $0["expand"] as! Bool)
            }
            let ok = copy.sources.destination == entry["dest_path"] as! String
                && copy.sources.sourcePaths == entry["source_paths"] as! [String] && copy.sources.inlineSources == contents
            cases.append((entry["id"] as! String, ok ? nil : "got \(copy.sources)"))
        }
        for entry in corpus["run"] as! [[String: Any]] {
            let node = try DockerfileParser.parse(entry["dockerfile"] as! String).instructions[0]
            guard case .run(let run) = try InstructionParser.parse(node).kind else {
                cases.append((entry["id"] as! String, "not a RUN"))
                continue
            }
            let files = (entry["files"] as? [[String: Any]] ?? []).map {
                [$0["name"] as! String, $0["data"] as! String, "\($0["chomp"] as! Bool)"]
            }
            let actualFiles = run.command.files.map { [$0.name, $0.content, "\($0.chomp)"] }
            let ok = run.command.prependsShell == entry["prepend_shell"] as! Bool
                && run.command.arguments == entry["cmd_line"] as! [String] && actualFiles == files
            cases.append((entry["id"] as! String, ok ? nil : "got \(run.command)"))
        }
        Conformance.check(corpus: "buildkit-instructions/heredoc-instruction-cases", cases: cases)
    }

    @Test("builder flags")
    func builderFlags() throws {
        var cases: [(String, String?)] = []
        for entry in try Conformance.json("buildkit-instructions/bflag-cases.json") as! [[String: Any]] {
            var flags = BuilderFlags(entry["args"] as! [String])
            for flag in entry["flags"] as! [[String: Any]] {
                let name = flag["name"] as! String
                if flag["type"] as! String == "bool" {
                    flags.declareBool(name, default: flag["default"] as? Bool ?? false)
                } else {
                    flags.declareString(name, default: flag["default"] as? String ?? "")
                }
            }
            var failure: String?
            do {
                try flags.parse()
                if entry["expect_error"] as! Bool { failure = "accepted" }
            } catch {
                if !(entry["expect_error"] as! Bool) { failure = "rejected: \(error.message)" }
            }
            if failure == nil && !(entry["expect_error"] as! Bool) {
                for (name, value) in entry["values"] as? [String: Any] ?? [:] {
                    let actual = value is Bool ? "\(flags.bool(name))" : flags.string(name)
                    let wanted = (value as? Bool).map { "\($0)" } ?? (value as? String ?? "")
                    if actual != wanted { failure = "\(name) = \(actual)" }
                }
                for (name, used) in entry["used"] as? [String: Bool] ?? [:] where flags.isUsed(name) != used {
                    failure = "\(name) used: \(flags.isUsed(name))"
                }
                if let exactly = entry["used_exactly"] as? [String], exactly.sorted() != flags.used.sorted() {
                    failure = "used \(flags.used.sorted())"
                }
            }
            cases.append((entry["id"] as! String, failure))
        }
        Conformance.check(corpus: "buildkit-instructions/bflag-cases", cases: cases)
    }
}
