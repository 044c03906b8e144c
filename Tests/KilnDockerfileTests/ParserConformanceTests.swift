import Foundation
import Testing
@testable import KilnDockerfile

@Suite("BuildKit parser corpus")
struct ParserConformanceTests {
    @Test("testfiles: AST dumps match BuildKit's byte for byte")
    func astDumps() throws {
        let folder = Conformance.url("buildkit-parser/testfiles")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        var cases: [(String, String?)] = []
        for name in names {
            let source = try Conformance.text("buildkit-parser/testfiles/\(name)/Dockerfile")
            let expected = try Conformance.text("buildkit-parser/testfiles/\(name)/result")
            do {
                let dump = try DockerfileParser.parse(source).root.dump() + "\n"
                cases.append((name, dump == expected ? nil : "dump differs:\n\(dump)\nexpected:\n\(expected)"))
            } catch {
                cases.append((name, "parse failed: \(error)"))
            }
        }
        Conformance.check(corpus: "buildkit-parser/testfiles", cases: cases)
    }

    @Test("testfiles-negative: every case is rejected with a position")
    func negativeFiles() throws {
        let folder = Conformance.url("buildkit-parser/testfiles-negative")
        var cases: [(String, String?)] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() {
            let source = try Conformance.text("buildkit-parser/testfiles-negative/\(name)/Dockerfile")
            do {
                _ = try Dockerfile(source: source)
                cases.append((name, "accepted"))
            } catch {
                cases.append((name, error.errors.allSatisfy { $0.range != nil } ? nil : "error without position: \(error)"))
            }
        }
        Conformance.check(corpus: "buildkit-parser/testfiles-negative", cases: cases)
    }

    @Test("line numbers of instructions")
    func lineNumbers() throws {
        let misc = try Conformance.json("buildkit-parser/parser-misc-cases.json") as! [String: Any]
        var cases: [(String, String?)] = []
        for entry in misc["line_numbers"] as! [[String: Any]] {
            let parsed = try DockerfileParser.parse(try Conformance.text("buildkit-parser/" + (entry["file"] as! String)))
            let children = (entry["children"] as! [[Int]]).map { [$0[0], $0[1]] }
            let actual = parsed.instructions.map { [$0.startLine, $0.endLine] }
            let ok = parsed.root.startLine == entry["start_line"] as! Int && parsed.root.endLine == entry["end_line"] as! Int
                && actual == children && parsed.instructions.count == entry["child_count"] as! Int
            cases.append((entry["id"] as! String, ok ? nil : "got \(actual) root \(parsed.root.startLine)-\(parsed.root.endLine)"))
        }
        Conformance.check(corpus: "buildkit-parser/line_numbers", cases: cases)
    }

    @Test("parse_words, json arrays, name/value, max line length, empty continuation warnings")
    func miscellaneous() throws {
        let misc = try Conformance.json("buildkit-parser/parser-misc-cases.json") as! [String: Any]
        var cases: [(String, String?)] = []
        for entry in misc["parse_words"] as! [[String: Any]] {
            let words = LineParser.words(entry["input"] as! String, escapeToken: "\\")
            let expected = entry["expected"] as! [String]
            cases.append((entry["id"] as! String, words == expected ? nil : "got \(words)"))
        }
        for entry in misc["json_string_arrays"] as! [[String: Any]] {
            let outcome = LineParser.jsonArray(entry["input"] as! String)
            let valid = entry["valid"] as! Bool
            var failure: String?
            switch outcome {
            case .array(let strings):
                if !valid { failure = "accepted \(strings)" } else if strings != (entry["expected"] as? [String] ?? []) {
                    failure = "got \(strings)"
                }
            case .notJSON, .notStringArray:
                if valid { failure = "rejected" }
            }
            cases.append((entry["id"] as! String, failure))
        }
        for entry in misc["name_value"] as! [[String: Any]] {
            let id = entry["id"] as! String
            do {
                let nodes = try LineParser.nameValue(
                    entry["rest"] as! String, instruction: entry["instruction"] as! String, escapeToken: "\\")
                if entry["expect_error"] as? Bool == true {
                    cases.append((id, "accepted"))
                } else {
                    let values = nodes.map(\.value)
                    cases.append((id, values == entry["expected_values"] as! [String] ? nil : "got \(values)"))
                }
            } catch {
                cases.append((id, entry["expect_error"] as? Bool == true ? nil : "rejected: \(error)"))
            }
        }
        for entry in misc["max_line_length"] as! [[String: Any]] {
            let source = (entry["dockerfile_prefix"] as! String)
                + String(repeating: entry["repeat_char"] as! String, count: entry["repeat_count"] as! Int)
                + (entry["dockerfile_suffix"] as! String)
            do {
                _ = try DockerfileParser.parse(source)
                cases.append((entry["id"] as! String, "accepted"))
            } catch {
                cases.append((entry["id"] as! String, error.message == entry["expected_error"] as! String ? nil : "got \(error.message)"))
            }
        }
        for entry in misc["empty_continuation_warnings"] as! [[String: Any]] {
            let parsed = try DockerfileParser.parse(entry["dockerfile"] as! String)
            let expected = entry["warnings"] as! [[String: Any]]
            var failure: String?
            if parsed.warnings.count != entry["warning_count"] as! Int {
                failure = "got \(parsed.warnings.count) warnings"
            } else {
                for (warning, expectation) in zip(parsed.warnings, expected) {
                    for fragment in expectation["short_contains"] as! [String] where !warning.message.contains(fragment) {
                        failure = "warning \(goQuoted(warning.message)) lacks \(goQuoted(fragment))"
                    }
                    if let detail = expectation["detail0_contains"] as? String, !warning.detail.contains(detail) {
                        failure = "detail lacks \(detail)"
                    }
                }
            }
            cases.append((entry["id"] as! String, failure))
        }
        Conformance.check(corpus: "buildkit-parser/parser-misc-cases", cases: cases)
    }

    @Test("directives: ParseAll, DetectSyntax, ParseDirective")
    func directives() throws {
        var cases: [(String, String?)] = []
        for entry in try Conformance.json("buildkit-parser/directive-cases.json") as! [[String: Any]] {
            let id = entry["id"] as! String
            let input = entry["input"] as! String
            let expect = entry["expect"] as! [String: Any]
            switch entry["func"] as! String {
            case "ParseAll":
                var scanner = DirectiveScanner()
                var found: [[String]] = []
                for line in input.split(separator: "\n", omittingEmptySubsequences: false) {
                    if scanner.isDone { break }
                    guard let directive = try? scanner.scan(line) else { break }
                    found.append([directive.name, directive.value])
                }
                let expected = (expect["directives"] as! [[String: String]]).map { [$0["name"]!, $0["value"]!] }
                cases.append((id, found == expected ? nil : "got \(found)"))
            default:
                let match = entry["func"] as! String == "DetectSyntax"
                    ? DirectiveDetector.syntax(in: input) : DirectiveDetector.directive(entry["key"] as! String, in: input)
                var failure: String?
                if (match != nil) != (expect["found"] as! Bool) {
                    failure = "found: \(match != nil)"
                } else if let match {
                    if let ref = expect["ref"] as? String, ref != match.reference { failure = "ref \(match.reference)" }
                    if let cmdline = expect["cmdline"] as? String, cmdline != match.commandLine { failure = "cmdline \(match.commandLine)" }
                    if let line = expect["start_line"] as? Int, line != match.line { failure = "line \(match.line)" }
                }
                cases.append((id, failure))
            }
        }
        Conformance.check(corpus: "buildkit-parser/directive-cases", cases: cases)
    }

    @Test("heredocs: extraction, marker words, markers in lines, chomping")
    func heredocs() throws {
        let corpus = try Conformance.json("buildkit-parser/heredoc-cases.json") as! [String: Any]
        var cases: [(String, String?)] = []
        for entry in corpus["extract"] as! [[String: Any]] {
            let parsed = try DockerfileParser.parse(entry["dockerfile"] as! String)
            for child in entry["children"] as! [[String: Any]] {
                let index = child["child_index"] as! Int
                let id = "\(entry["id"] as! String)/\(index)"
                guard index < parsed.instructions.count else {
                    cases.append((id, "missing instruction"))
                    continue
                }
                let actual = parsed.instructions[index].heredocs
                let expected = (child["heredocs"] as? [[String: Any]] ?? []).map {
                    Heredoc(
                        name: $0["name"] as! String, fileDescriptor: $0["file_descriptor"] as! Int,
                        expand: $0["expand"] as! Bool, chomp: $0["chomp"] as! Bool, content: $0["content"] as! String)
                }
                cases.append((id, actual == expected ? nil : "got \(actual)"))
            }
        }
        for entry in corpus["parse_heredoc_word"] as! [[String: Any]] {
            let id = entry["id"] as! String
            let result: String
            var name: String?
            do {
                if let heredoc = try HeredocMarker.parse(entry["word"] as! String) {
                    result = "heredoc"
                    name = heredoc.name
                } else {
                    result = "none"
                }
            } catch {
                result = "error"
            }
            let ok = result == entry["result"] as! String && (result != "heredoc" || name == entry["name"] as? String)
            cases.append((id, ok ? nil : "got \(result) \(name ?? "")"))
        }
        for entry in corpus["heredocs_from_line"] as! [[String: Any]] {
            let names = ((try? HeredocMarker.heredocs(inLine: entry["line"] as! String)) ?? []).map(\.name)
            let expected = entry["names"] as! [String]
            // Upstream compares the names it gets back, index by index, with the expected ones.
            let ok = names.count <= expected.count && zip(names, expected).allSatisfy(==)
            cases.append((entry["id"] as! String, ok ? nil : "got \(names)"))
        }
        for entry in corpus["chomp"] as! [[String: Any]] {
            let chomped = Heredoc.removingLeadingTabs(entry["input"] as! String)
            cases.append((entry["id"] as! String, chomped == entry["expected"] as! String ? nil : "got \(chomped)"))
        }
        Conformance.check(corpus: "buildkit-parser/heredoc-cases", cases: cases)
    }
}
