import Foundation
import Testing
@testable import KilnGraph

/// The `.dockerignore` conformance corpus converted from moby/patternmatcher's tests, read in place from
/// `$KILN_SHARED/conformance/dockerignore`, or from `../shared/conformance/dockerignore` beside the package.
enum DockerignoreCorpus {
    /// One expectation: build a matcher from `patterns`, then match `path`.
    struct MatchCase: Sendable, CustomTestStringConvertible {
        var id: String
        var patterns: [String]
        var path: String
        /// nil: not asserted.
        var expected: Bool?
        /// Building the matcher must fail.
        var expectsConstructionError: Bool

        var testDescription: String { "\(id): \(patterns) ~ \(path.debugDescription)" }
    }

    struct ConstructCase: Decodable, Sendable, CustomTestStringConvertible {
        var id: String
        var patterns: [String]
        var expectError: Bool
        var patternCount: Int?
        var hasExclusions: Bool?

        var testDescription: String { "\(id): \(patterns)" }
    }

    struct RepeatedBadPatternCase: Decodable, Sendable, CustomTestStringConvertible {
        var id: String
        var patterns: [String]
        var path: String
        var constructOk: Bool
        var calls: Int

        var testDescription: String { "\(id): \(patterns) ~ \(path.debugDescription)" }
    }

    struct Cases: Sendable {
        /// `match-cases.tsv` rows with `api = parent`.
        var parentRows: [MatchCase] = []
        /// `match-cases.tsv` rows with `api = legacy` and `error = bad-pattern`.
        var legacyBadPatternRows: [MatchCase] = []
        /// `pattern-list-cases.json` `match` cases with `api = parent`.
        var parentLists: [MatchCase] = []
        /// `pattern-list-cases.json` `match` cases with `api = legacy` that expect an error.
        var legacyErrorLists: [MatchCase] = []
        var construct: [ConstructCase] = []
        var repeatedBadPattern: [RepeatedBadPatternCase] = []
    }

    struct LoadError: Error, Sendable, CustomStringConvertible {
        var description: String
    }

    static let directory: URL = {
        if let shared = ProcessInfo.processInfo.environment["KILN_SHARED"] {
            return URL(fileURLWithPath: shared).appendingPathComponent("conformance/dockerignore")
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/dockerignore")
    }()

    /// The corpus, or why it could not be read.
    static let loaded: Result<Cases, LoadError> = {
        do {
            return .success(try load())
        } catch let error as LoadError {
            return .failure(error)
        } catch {
            return .failure(LoadError(description: "cannot read the dockerignore corpus in \(directory.path): \(error)"))
        }
    }()

    static var cases: Cases { (try? loaded.get()) ?? Cases() }

    private static func load() throws -> Cases {
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw LoadError(description: """
                dockerignore conformance corpus not found at \(directory.path); \
                set KILN_SHARED to the shared/ folder
                """)
        }
        var cases = Cases()

        // match-cases.tsv: api, pattern, path, expected, error, platform, source. No quoting, no escaping.
        let table = try String(contentsOf: directory.appendingPathComponent("match-cases.tsv"), encoding: .utf8)
        for (number, line) in table.split(separator: "\n").enumerated().dropFirst() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 7 else {
                throw LoadError(description: "match-cases.tsv line \(number + 1): expected 7 fields, got \(fields.count)")
            }
            let row = MatchCase(
                id: fields[6], patterns: [fields[1]], path: fields[2], expected: fields[3] == "true",
                expectsConstructionError: fields[4] == "bad-pattern")
            switch fields[0] {
            case "parent":
                cases.parentRows.append(row)
            case "legacy":
                // `api = legacy` rows test moby's deprecated `Matches`, which kiln does not port; only their
                // construction errors are shared with `MatchesOrParentMatches`.
                if row.expectsConstructionError { cases.legacyBadPatternRows.append(row) }
            default:
                throw LoadError(description: "match-cases.tsv line \(number + 1): unknown api \(fields[0])")
            }
        }

        struct PatternLists: Decodable {
            struct Match: Decodable {
                var id: String
                var api: String
                var patterns: [String]
                var path: String
                var expected: Bool?
                var error: String?
            }

            var match: [Match]
            var construct: [ConstructCase]
            var repeatedBadPattern: [RepeatedBadPatternCase]
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let lists = try decoder.decode(
            PatternLists.self, from: Data(contentsOf: directory.appendingPathComponent("pattern-list-cases.json")))
        for match in lists.match {
            let listCase = MatchCase(
                id: match.id, patterns: match.patterns, path: match.path, expected: match.expected,
                expectsConstructionError: match.error != nil)
            switch match.api {
            case "parent": cases.parentLists.append(listCase)
            // The deprecated API again: only its construction errors apply to kiln.
            case "legacy": if listCase.expectsConstructionError { cases.legacyErrorLists.append(listCase) }
            default: throw LoadError(description: "pattern-list-cases.json \(match.id): unknown api \(match.api)")
            }
        }
        cases.construct = lists.construct
        cases.repeatedBadPattern = lists.repeatedBadPattern
        return cases
    }
}

/// One `excludesWholeDirectory` expectation (hand-written, checked against BuildKit's walker logic).
struct DirectorySkipCase: Sendable, CustomTestStringConvertible {
    var patterns: [String]
    var directory: String
    var expected: Bool

    var testDescription: String { "\(patterns) skip \(directory)? \(expected)" }
}

@Suite("PathPatternMatcher (.dockerignore)")
struct PathPatternMatcherTests {
    @Test("the conformance corpus is present and complete")
    func corpusIsPresent() throws {
        let cases = try DockerignoreCorpus.loaded.get()
        #expect(!cases.parentRows.isEmpty, "match-cases.tsv has no api = parent rows")
        #expect(!cases.parentLists.isEmpty, "pattern-list-cases.json has no api = parent match cases")
        #expect(!cases.construct.isEmpty, "pattern-list-cases.json has no construct cases")
        #expect(!cases.repeatedBadPattern.isEmpty, "pattern-list-cases.json has no repeated_bad_pattern case")
    }

    @Test("match-cases.tsv, api = parent", arguments: DockerignoreCorpus.cases.parentRows)
    func singlePattern(_ matchCase: DockerignoreCorpus.MatchCase) throws {
        try check(matchCase)
    }

    @Test("pattern-list-cases.json match, api = parent", arguments: DockerignoreCorpus.cases.parentLists)
    func patternList(_ matchCase: DockerignoreCorpus.MatchCase) throws {
        try check(matchCase)
    }

    @Test(
        "malformed patterns of the legacy-API cases are rejected when building",
        arguments: DockerignoreCorpus.cases.legacyBadPatternRows + DockerignoreCorpus.cases.legacyErrorLists)
    func legacyBadPattern(_ matchCase: DockerignoreCorpus.MatchCase) throws {
        try check(matchCase)
    }

    @Test("pattern-list-cases.json construct", arguments: DockerignoreCorpus.cases.construct)
    func construct(_ constructCase: DockerignoreCorpus.ConstructCase) throws {
        if constructCase.expectError {
            #expect(throws: PathPatternError.self) { try PathPatternMatcher(constructCase.patterns) }
            return
        }
        let matcher = try PathPatternMatcher(constructCase.patterns)
        if let count = constructCase.patternCount {
            #expect(matcher.patterns.count == count)
        }
        if let hasExclusions = constructCase.hasExclusions {
            #expect(matcher.hasExclusions == hasExclusions)
        }
    }

    @Test("pattern-list-cases.json repeated_bad_pattern", arguments: DockerignoreCorpus.cases.repeatedBadPattern)
    func repeatedBadPattern(_ badCase: DockerignoreCorpus.RepeatedBadPatternCase) throws {
        guard badCase.constructOk else {
            #expect(throws: PathPatternError.self) { try PathPatternMatcher(badCase.patterns) }
            return
        }
        let matcher = try PathPatternMatcher(badCase.patterns)
        for call in 1...max(badCase.calls, 1) {
            let error = #expect(throws: PathPatternError.self, "call \(call)") { try matcher.matches(badCase.path) }
            #expect(error?.description.hasPrefix("syntax error in pattern") == true, "call \(call): \(String(describing: error))")
        }
    }

    @Test("quirks of upstream's regular expressions are kept", arguments: [
        // `**` first is a suffix test: `**.foo` is "ends with .foo".
        (["**.foo"], "bar.foo", true), (["**.foo"], "foo", false),
        // `|` and `{` reach RE2 unescaped: `x*|y` is "starts with x, or ends with y".
        (["x*|y"], "ay", true), (["x*|y"], "b", false), (["a?{2}"], "abc", true), (["a?{2}"], "ab", false),
        // A class opened by the pattern swallows the text generated for `?`: `[a?]` is `[a[^/]]`.
        (["[a?]"], "a]", true), (["[a?]"], "a", false),
        // An escaped letter is an RE2 escape.
        ([#"\d"#], "5", true), ([#"\d"#], "d", false),
    ])
    func upstreamQuirks(patterns: [String], path: String, expected: Bool) throws {
        #expect(try PathPatternMatcher(patterns).matches(path) == expected)
    }

    @Test("excludesWholeDirectory", arguments: [
        DirectorySkipCase(patterns: ["node_modules"], directory: "node_modules", expected: true),
        DirectorySkipCase(patterns: ["node_modules"], directory: "node_modules/pkg", expected: true),
        DirectorySkipCase(patterns: ["node_modules"], directory: "src", expected: false),
        // An exclusion inside the directory needs a walk; one elsewhere does not.
        DirectorySkipCase(patterns: ["build", "!build/keep.txt"], directory: "build", expected: false),
        DirectorySkipCase(patterns: ["build", "!docs"], directory: "build", expected: true),
        // An exclusion with wildcards could re-include anything.
        DirectorySkipCase(patterns: ["build", "!build/*.txt"], directory: "build", expected: false),
        DirectorySkipCase(patterns: ["build", "!*.md"], directory: "build", expected: false),
        // A trailing `/**` or `/*` on an exclusion does not count as a wildcard.
        DirectorySkipCase(patterns: ["**/cache", "!cache/keep/**"], directory: "cache", expected: false),
        DirectorySkipCase(patterns: ["**/cache", "!cache/keep/**"], directory: "lib/cache", expected: true),
        DirectorySkipCase(patterns: ["a/**", "!a/b/*"], directory: "a/b", expected: false),
        DirectorySkipCase(patterns: ["a/**", "!a/b/*"], directory: "a/c", expected: true),
        // A re-included directory is not skipped.
        DirectorySkipCase(patterns: ["*", "!src"], directory: "src", expected: false),
        DirectorySkipCase(patterns: ["*", "!src"], directory: "bin", expected: true),
    ])
    func excludesWholeDirectory(_ skipCase: DirectorySkipCase) throws {
        let matcher = try PathPatternMatcher(skipCase.patterns)
        #expect(try matcher.excludesWholeDirectory(skipCase.directory) == skipCase.expected)
    }

    @Test("a malformed pattern that is never evaluated does not fail a match")
    func unevaluatedBadPattern() throws {
        // The exclusion only applies once the path is matched, as upstream.
        let matcher = try PathPatternMatcher(["a", "![Local-Only]"])
        #expect(try matcher.matches("b") == false)
        #expect(throws: PathPatternError.self) { try matcher.matches("a") }
    }

    private func check(_ matchCase: DockerignoreCorpus.MatchCase) throws {
        if matchCase.expectsConstructionError {
            #expect(throws: PathPatternError.self) { try PathPatternMatcher(matchCase.patterns) }
            return
        }
        let result = try PathPatternMatcher(matchCase.patterns).matches(matchCase.path)
        if let expected = matchCase.expected {
            #expect(result == expected)
        }
    }
}
