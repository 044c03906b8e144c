import ArgumentParser
import Foundation
import KilnArchive
import KilnOCI
import KilnReporting
import KilnStore

/// `--root`: where the image store lives.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The store directory (default: $KILN_ROOT, /var/lib/kiln as root, else $XDG_DATA_HOME/kiln)", valueName: "path"))
    var root: String?

    func openStore() throws -> LayoutStore {
        do {
            return try LayoutStore(root: root ?? StoreLayout.defaultRoot())
        } catch {
            throw CommandFailure("cannot open the image store: \(error)")
        }
    }
}

extension LayoutStore {
    /// The image named `name` (reference, ID or digest), or the error docker prints when there is none.
    func requireImage(_ name: String, platform: Platform = .host) throws -> StoredImage {
        do {
            return try image(name, platform: platform)
        } catch {
            throw CommandFailure("no such image: \(name)")
        }
    }
}

/// An error the CLI prints as one line (`Error: …`) before exiting with status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Human-readable sizes and times as docker prints them.
enum Formatting {
    /// `4.26MB`, `126kB`, `0B` (SI units, three significant digits).
    static func size(_ bytes: Int64) -> String {
        BuildSummary.size(bytes)
    }

    /// `3 minutes ago`, `2 days ago`, `N/A`.
    static func ago(_ created: String?, now: Date = Date()) -> String {
        guard let created, let date = parseDate(created) else { return "N/A" }
        return ago(date, now: now)
    }

    static func ago(_ date: Date, now: Date = Date()) -> String {
        let seconds = Int(now.timeIntervalSince(date))
        if seconds < 1 { return "Less than a second ago" }
        let steps: [(Int, String)] = [(365 * 86_400, "year"), (30 * 86_400, "month"), (7 * 86_400, "week"), (86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second")]
        for (size, name) in steps where seconds >= size {
            let count = seconds / size
            return count == 1 ? (name == "hour" ? "About an hour ago" : "1 \(name) ago") : "\(count) \(name)s ago"
        }
        return "N/A"
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// An RFC 3339 time for `created` fields: `SOURCE_DATE_EPOCH` when set, else now.
    static func creationTime(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let date = environment["SOURCE_DATE_EPOCH"].flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } ?? Date()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Prints rows as aligned columns, docker style (three spaces between columns).
    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 3, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n")
    }
}

/// Command-line values turned into kiln's types, with the parse error as a usage error.
enum ArgumentValue {
    static func platform(_ text: String?) throws -> Platform {
        guard let text else { return .host }
        do {
            return try Platform(parsing: text)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// `--platform a,b,…` (default: this machine's), without repeats.
    static func platforms(_ text: String?) throws -> [Platform] {
        guard let text else { return [.host] }
        var result: [Platform] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parsed = try platform(item)
            if !result.contains(parsed) { result.append(parsed) }
        }
        guard !result.isEmpty else { throw ValidationError("--platform needs at least one os/arch") }
        return result
    }

    static func reference(_ text: String) throws -> ImageReference {
        do {
            return try ImageReference(parsing: text)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
