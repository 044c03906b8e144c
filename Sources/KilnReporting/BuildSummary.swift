import Foundation

/// The table printed after every build: each stage with its size and time, the final image's size and
/// layer count, and how much smaller it is than the largest builder stage (what every multi-stage
/// guide shows with `docker images`).
public struct BuildSummary: Sendable {
    public struct Stage: Sendable {
        public var name: String
        /// The stage's base as written (`gcc:12`, `scratch`, another stage's name).
        public var base: String
        /// Uncompressed size of the stage's filesystem.
        public var size: Int64
        public var layers: Int
        /// Time spent running the stage's own steps.
        public var duration: TimeInterval
        public var isTarget: Bool

        public init(name: String, base: String, size: Int64, layers: Int, duration: TimeInterval, isTarget: Bool) {
            self.name = name
            self.base = base
            self.size = size
            self.layers = layers
            self.duration = duration
            self.isTarget = isTarget
        }
    }

    /// What the cache did for one step: a hit (`reasons` nil) or a miss and why.
    public struct CacheOutcome: Sendable, Equatable {
        public var step: String
        /// The step's number in the progress output (`#7`).
        public var number: Int
        public var reasons: [String]?

        public init(step: String, number: Int, reasons: [String]?) {
            self.step = step
            self.number = number
            self.reasons = reasons
        }
    }

    public var stages: [Stage]
    /// Cacheable steps (RUN, COPY, ADD, WORKDIR) in step order.
    public var cache: [CacheOutcome] = []
    /// The image ID (config digest) and tags of the result.
    public var imageID: String
    public var tags: [String]
    /// Compressed size of the image's layers (what a registry stores and a pull downloads).
    public var compressedSize: Int64
    public var totalDuration: TimeInterval

    public init(stages: [Stage], imageID: String, tags: [String], compressedSize: Int64, totalDuration: TimeInterval) {
        self.stages = stages
        self.imageID = imageID
        self.tags = tags
        self.compressedSize = compressedSize
        self.totalDuration = totalDuration
    }

    public func render() -> String {
        var lines: [String] = []
        let nameWidth = max(5, stages.map { $0.name.count + 4 + $0.base.count }.max() ?? 0)
        lines.append("STAGE".padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0) + "SIZE".leftPadded(10) + "LAYERS".leftPadded(8) + "TIME".leftPadded(9))
        for stage in stages {
            let label = "\(stage.name) (\(stage.base))"
            let marker = stage.isTarget ? "  <- image" : ""
            lines.append(
                label.padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0) + Self.size(stage.size).leftPadded(10)
                    + String(stage.layers).leftPadded(8) + Self.duration(stage.duration).leftPadded(9) + marker)
        }
        guard let target = stages.first(where: \.isTarget) else { return lines.joined(separator: "\n") }
        let name = tags.first ?? imageID
        var result = "Image \(name): \(Self.size(target.size)) in \(target.layers) layer\(target.layers == 1 ? "" : "s")"
        result += " (\(Self.size(compressedSize)) compressed), built in \(Self.duration(totalDuration))"
        lines.append(result)
        if let largest = stages.filter({ !$0.isTarget }).max(by: { $0.size < $1.size }), largest.size > target.size, largest.size > 0 {
            let saved = 100 * Double(largest.size - target.size) / Double(largest.size)
            lines.append("\(String(format: "%.1f", saved))% smaller than the largest builder stage, \(largest.name) (\(Self.size(largest.size)))")
        }
        if tags.isEmpty { lines.append("ID \(imageID)") }
        lines += renderCache()
        return lines.joined(separator: "\n")
    }

    /// `Cache: 5 of 7 steps reused` and one line per miss with its first reason.
    func renderCache() -> [String] {
        guard !cache.isEmpty else { return [] }
        let misses = cache.filter { $0.reasons != nil }
        var lines = ["Cache: \(cache.count - misses.count) of \(cache.count) step\(cache.count == 1 ? "" : "s") reused"]
        let explained = misses.filter { $0.reasons?.first != Self.firstBuild }
        if explained.isEmpty && !misses.isEmpty {
            lines[0] += " (no earlier build of this target to compare with)"
            return lines
        }
        for miss in explained {
            lines.append("  #\(miss.number) \(miss.step): miss — \(miss.reasons?.first ?? "not cached")")
        }
        return lines
    }

    /// The reason of a miss that has nothing to be compared with.
    public static let firstBuild = "no earlier build of this step"

    /// `--explain-cache`: every cacheable step, hit or miss, with all the differences of a miss.
    public func renderCacheExplanation() -> String {
        var lines = ["Cache explanation (compared with the previous build of this target):"]
        for outcome in cache {
            guard let reasons = outcome.reasons else {
                lines.append("#\(outcome.number) \(outcome.step): hit")
                continue
            }
            lines.append("#\(outcome.number) \(outcome.step): miss")
            let shown = reasons.prefix(20)
            for reason in shown { lines.append("    \(reason)") }
            if reasons.count > shown.count { lines.append("    … and \(reasons.count - shown.count) more differences") }
        }
        return lines.joined(separator: "\n")
    }

    /// `4.26MB`, `126kB`, `0B` (SI units, three significant digits, as docker prints sizes).
    public static func size(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(bytes)B" }
        let text = value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
        var trimmed = text
        if trimmed.contains(".") {
            while trimmed.hasSuffix("0") { trimmed.removeLast() }
            if trimmed.hasSuffix(".") { trimmed.removeLast() }
        }
        return trimmed + units[unit]
    }

    /// `0.4s`, `12.3s`, `2m05s`.
    public static func duration(_ seconds: TimeInterval) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        return String(format: "%dm%02ds", whole / 60, whole % 60)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
