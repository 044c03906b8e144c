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

    public var stages: [Stage]
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
