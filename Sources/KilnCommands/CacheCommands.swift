import ArgumentParser
import Foundation
import KilnDockerfile
import KilnStore

/// `kiln cache`: the build cache, as `docker buildx du` and `docker builder prune` show and trim it.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "List, measure and prune the build cache",
        subcommands: [CacheListCommand.self, CacheDiskUsageCommand.self, CachePruneCommand.self])
}

/// `kiln cache ls`: every cache record and cache mount, most recently used first.
struct CacheListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List build cache records and cache mounts")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let items = try CachePruner(store: try store.openStore()).items()
        var rows = [["ID", "TYPE", "SIZE", "LAST USED", "SHARED", "STEP"]]
        for item in items {
            rows.append([
                item.kind == .record ? String(item.id.prefix(12)) : item.id, item.kind.rawValue, Formatting.size(item.size),
                Formatting.ago(item.lastUsed), item.isShared ? "true" : "false", item.description,
            ])
        }
        print(Formatting.table(rows))
    }
}

/// `kiln cache du`: totals, and what pruning would free.
struct CacheDiskUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "du", abstract: "Show build cache disk usage")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let items = try CachePruner(store: try store.openStore()).items()
        let total = items.reduce(Int64(0)) { $0 + $1.size }
        let reclaimable = items.filter { !$0.isShared }.reduce(Int64(0)) { $0 + $1.size }
        let records = items.filter { $0.kind == .record }.count
        print("Records:\t\(records)")
        print("Cache mounts:\t\(items.count - records)")
        print("Shared:\t\t\(Formatting.size(total - reclaimable))")
        print("Private:\t\(Formatting.size(reclaimable))")
        print("Reclaimable:\t\(Formatting.size(reclaimable))")
        print("Total:\t\t\(Formatting.size(total))")
    }
}

/// `kiln cache prune`: drops cache records and cache mounts (least recently used first) and the layers
/// only they kept.
struct CachePruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove build cache")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Remove all build cache (the default when no limit is given)")
    var all = false

    @Option(name: .customLong("keep-storage"), help: ArgumentHelp("Keep the most recently used cache up to this size (e.g. 10GB)", valueName: "size"))
    var keepStorage: String?

    @Option(help: ArgumentHelp("Only remove cache unused for this long: until=24h", valueName: "filter"))
    var filter: [String] = []

    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation (accepted for docker compatibility)")
    var force = false

    func run() async throws {
        var unusedFor: TimeInterval?
        for item in filter {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == "until" || parts[0] == "unused-for", let seconds = HumanUnits.duration(parts[1]) else {
                throw ValidationError("invalid filter \(item): use until=DURATION (e.g. until=24h)")
            }
            unusedFor = seconds
        }
        var keep: Int64?
        if let keepStorage {
            guard let bytes = ByteSize.parseRAM(keepStorage) else { throw ValidationError("invalid size \(keepStorage): use e.g. 500MB or 10GB") }
            keep = bytes
        }
        let (removed, bytes) = try CachePruner(store: try store.openStore()).prune(keepStorage: keep, unusedFor: unusedFor)
        for item in removed { print("Deleted \(item.kind == .record ? String(item.id.prefix(12)) : item.id)\t\(item.description)") }
        print("Total:\t\(Formatting.size(bytes))")
    }
}

/// Durations as docker's flags take them.
enum HumanUnits {
    /// Go durations: `24h`, `90m`, `1h30m`, `45s`.
    static func duration(_ text: String) -> TimeInterval? {
        var total: TimeInterval = 0
        var number = ""
        var sawUnit = false
        for character in text {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let factor: TimeInterval
            switch character {
            case "h": factor = 3600
            case "m": factor = 60
            case "s": factor = 1
            case "d": factor = 86_400
            default: return nil
            }
            guard let value = Double(number) else { return nil }
            total += value * factor
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }
}
