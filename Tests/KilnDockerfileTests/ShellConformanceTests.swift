import Foundation
import Testing
@testable import KilnDockerfile

@Suite("BuildKit shell lexer corpus")
struct ShellConformanceTests {
    @Test("envVarTest: single-word expansion")
    func envVarTest() throws {
        var environment = VariableSet()
        environment["PWD"] = "/home"
        environment["SHELL"] = "bash"
        environment["KOREAN"] = "한국어"
        environment["NULL"] = ""
        let lexer = ShellLexer(escapeToken: "\\")
        var cases: [(String, String?)] = []
        for (number, rawLine) in try Conformance.text("buildkit-shell/envVarTest").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if rawLine.hasPrefix("#") { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3 else {
                cases.append(("line \(number + 1)", "malformed line"))
                continue
            }
            if fields[0] == "W" { continue }
            let id = "line \(number + 1): \(fields[1])"
            do {
                let result = try lexer.processWord(fields[1], with: environment)
                cases.append((id, fields[2] != "error" && result == fields[2] ? nil : "got \(goQuoted(result)), expected \(fields[2])"))
            } catch {
                cases.append((id, fields[2] == "error" ? nil : "failed: \(error)"))
            }
        }
        Conformance.check(corpus: "buildkit-shell/envVarTest", cases: cases)
    }

    @Test("wordsTest: expansion with word splitting")
    func wordsTest() throws {
        var environment = VariableSet()
        let lexer = ShellLexer(escapeToken: "\\")
        var cases: [(String, String?)] = []
        for (number, line) in try Conformance.text("buildkit-shell/wordsTest").split(separator: "\n").enumerated() {
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("ENV ") {
                let assignment = line.dropFirst(3).drop { $0 == " " }
                let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
                continue
            }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count == 2 else {
                cases.append(("line \(number + 1)", "malformed line"))
                continue
            }
            let input = fields[0].trimmingCharacters(in: .whitespaces)
            let expected = String(fields[1].drop { $0 == " " }).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let words = (try? lexer.processWords(input, with: environment)) ?? ["error"]
            cases.append(("line \(number + 1): \(input)", words == expected ? nil : "got \(words), expected \(expected)"))
        }
        Conformance.check(corpus: "buildkit-shell/wordsTest", cases: cases)
    }

    @Test("lex-cases: ProcessWordWithMatches, mandatory variables, getEnv")
    func lexCases() throws {
        var cases: [(String, String?)] = []
        for entry in try Conformance.jsonLines("buildkit-shell/lex-cases.jsonl") {
            let id = entry["id"] as! String
            let environment = VariableSet(assignments: entry["env"] as? [String] ?? [])
            let input = entry["input"] as! String
            if entry["func"] as! String == "getEnv" {
                let value = environment.value(of: input) ?? ""
                cases.append((id, value == entry["expected"] as? String ?? "" ? nil : "got \(value)"))
                continue
            }
            let lexer = ShellLexer(escapeToken: (entry["escape"] as! String).unicodeScalars.first!)
            do {
                let expansion = try lexer.expand(input, with: environment)
                var failure: String?
                if entry["expected_error"] as! Bool {
                    failure = "expected an error, got \(goQuoted(expansion.result))"
                } else if expansion.result != entry["expected"] as? String {
                    failure = "got \(goQuoted(expansion.result))"
                } else if entry["check_matches"] as? Bool == true {
                    let matches = Set(entry["matches"] as? [String] ?? [])
                    let unmatched = Set(entry["unmatched"] as? [String] ?? [])
                    if matches != expansion.matched || unmatched != expansion.unmatched {
                        failure = "matches \(expansion.matched.sorted()) unmatched \(expansion.unmatched.sorted())"
                    }
                }
                cases.append((id, failure))
            } catch {
                var failure: String?
                if !(entry["expected_error"] as! Bool) {
                    failure = "failed: \(error)"
                } else if let fragment = entry["error_contains"] as? String, !error.description.contains(fragment) {
                    failure = "error \(goQuoted(error.description)) lacks \(goQuoted(fragment))"
                }
                cases.append((id, failure))
            }
        }
        Conformance.check(corpus: "buildkit-shell/lex-cases", cases: cases)
    }
}
