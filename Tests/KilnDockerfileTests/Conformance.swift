import Foundation
import Testing

/// Access to the shared conformance corpora (`../shared/conformance`, read in place, never copied) and to
/// the one list of cases kiln knowingly does not pass.
enum Conformance {
    /// The package root.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$KILN_SHARED/conformance`, or `../shared/conformance` next to the checkout.
    static let root: URL = {
        if let shared = ProcessInfo.processInfo.environment["KILN_SHARED"] {
            return URL(fileURLWithPath: shared).appendingPathComponent("conformance")
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance")
    }()

    static func url(_ relativePath: String) -> URL { root.appendingPathComponent(relativePath) }

    static func text(_ relativePath: String) throws -> String {
        let url = url(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CorpusMissing(path: url.path)
        }
        return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    static func json(_ relativePath: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text(relativePath).utf8), options: [.fragmentsAllowed])
    }

    static func jsonLines(_ relativePath: String) throws -> [[String: Any]] {
        try text(relativePath).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    struct CorpusMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "conformance corpus not found at \(path); set KILN_SHARED to the shared/ folder" }
    }

    /// `Tests/Fixtures/conformance-known-failures.tsv`: `corpus<TAB>id<TAB>reason` rows.
    static let knownFailures: [String: String] = {
        let url = packageRoot.appendingPathComponent("Tests/Fixtures/conformance-known-failures.tsv")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [:] }
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: "\t", maxSplits: 2).map(String.init)
            guard fields.count == 3 else { continue }
            result[fields[0] + "/" + fields[1]] = fields[2]
        }
        return result
    }()

    /// Checks every case of `corpus`: each must pass unless listed as a known failure, and a listed case
    /// that now passes must be removed from the list. Prints the pass count.
    static func check(
        corpus: String, cases: [(id: String, failure: String?)], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var passed = 0
        for testCase in cases {
            let known = knownFailures[corpus + "/" + testCase.id]
            switch (testCase.failure, known) {
            case (nil, nil):
                passed += 1
            case (nil, .some):
                Issue.record("\(corpus) \(testCase.id) passes now: remove it from conformance-known-failures.tsv", sourceLocation: sourceLocation)
            case (.some(let failure), nil):
                Issue.record("\(corpus) \(testCase.id): \(failure)", sourceLocation: sourceLocation)
            case (.some, .some):
                break
            }
        }
        print("conformance \(corpus): \(passed)/\(cases.count) passed")
        #expect(!cases.isEmpty, "corpus \(corpus) has no cases", sourceLocation: sourceLocation)
    }
}
