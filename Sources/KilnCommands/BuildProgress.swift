import Foundation
import KilnGraph
import KilnReporting
import KilnSolver

/// Prints solver progress as buildx's plain mode does, on standard error: `#N name`, output lines
/// with the time since the step started, `#N DONE 1.2s` or `#N ERROR: …`. `quiet` prints nothing;
/// `rawjson` prints one JSON object per event.
final class BuildProgress: @unchecked Sendable {
    enum Mode: String, CaseIterable {
        case auto, tty, plain, quiet, rawjson
    }

    private let mode: Mode
    /// The live view, when the mode is `tty` (or `auto` on a terminal).
    private let live: LiveProgressView?
    private let lock = NSLock()
    private var started: [VertexID: Date] = [:]
    private var partialLines: [VertexID: [UInt8]] = [:]
    private(set) var durations: [VertexID: TimeInterval] = [:]
    private var names: [VertexID: String] = [:]
    private var hits: Set<VertexID> = []
    private var misses: [VertexID: [String]] = [:]

    init(mode: Mode, isTerminal: Bool = isatty(2) == 1) {
        self.mode = mode
        if mode == .tty || (mode == .auto && isTerminal) {
            live = LiveProgressView { text in FileHandle.standardError.write(Data(text.utf8)) }
        } else {
            live = nil
        }
    }

    /// Ends the live view (its final frame stays); call before printing anything else.
    func finish() {
        live?.finish()
    }

    func handle(_ event: ProgressEvent) {
        lock.withLock {
            switch mode {
            case .quiet: record(event)
            case .rawjson: record(event); printJSON(event)
            case .auto, .tty, .plain:
                record(event)
                if let live {
                    if case .started = event { live.start() }
                    live.handle(event)
                } else {
                    printPlain(event)
                }
            }
        }
    }

    /// Durations of finished steps, for the summary.
    func duration(of vertex: VertexID) -> TimeInterval {
        lock.withLock { durations[vertex] ?? 0 }
    }

    /// What the cache did for each step that could be cached, in step order.
    func cacheOutcomes() -> [BuildSummary.CacheOutcome] {
        lock.withLock {
            Set(hits).union(misses.keys).sorted().map { id in
                BuildSummary.CacheOutcome(step: names[id] ?? "#\(id + 1)", number: id + 1, reasons: misses[id])
            }
        }
    }

    private func record(_ event: ProgressEvent) {
        switch event {
        case .started(let id, let name):
            started[id] = Date()
            names[id] = name
        case .cached(let id): hits.insert(id)
        case .cacheMiss(let id, let reasons): misses[id] = reasons
        case .finished(let id, let duration, _), .failed(let id, let duration, _): durations[id] = duration
        default: break
        }
    }

    private func printPlain(_ event: ProgressEvent) {
        switch event {
        case .started(let id, let name):
            write("#\(id + 1) \(name)")
        case .output(let id, let bytes):
            var buffer = (partialLines[id] ?? []) + bytes
            for line in OutputLines.take(from: &buffer) { write("#\(id + 1) \(elapsed(id)) \(line)") }
            partialLines[id] = buffer
        case .status(let id, let message):
            write("#\(id + 1) \(message)")
        case .cached(let id):
            write("#\(id + 1) CACHED")
        case .cacheMiss(let id, let reasons):
            if let reason = reasons.first, reason != BuildSummary.firstBuild { write("#\(id + 1) cache miss: \(reason)") }
        case .finished(let id, let duration, _):
            flush(id)
            if hits.contains(id) { return }
            write("#\(id + 1) DONE \(String(format: "%.1fs", duration))")
        case .failed(let id, _, let message):
            flush(id)
            write("#\(id + 1) ERROR: \(message)")
        }
    }

    private func flush(_ id: VertexID) {
        if let rest = partialLines.removeValue(forKey: id), !rest.isEmpty {
            write("#\(id + 1) \(elapsed(id)) \(String(decoding: rest, as: UTF8.self))")
        }
    }

    private func elapsed(_ id: VertexID) -> String {
        String(format: "%.3f", Date().timeIntervalSince(started[id] ?? Date()))
    }

    private func printJSON(_ event: ProgressEvent) {
        var object: [String: Any] = [:]
        switch event {
        case .started(let id, let name): object = ["vertex": id + 1, "event": "started", "name": name]
        case .output(let id, let bytes): object = ["vertex": id + 1, "event": "output", "data": Data(bytes).base64EncodedString()]
        case .status(let id, let message): object = ["vertex": id + 1, "event": "status", "message": message]
        case .cached(let id): object = ["vertex": id + 1, "event": "cached"]
        case .cacheMiss(let id, let reasons): object = ["vertex": id + 1, "event": "cacheMiss", "reasons": reasons]
        case .finished(let id, let duration, let size):
            object = ["vertex": id + 1, "event": "finished", "duration": duration]
            if let size { object["layerSize"] = size }
        case .failed(let id, let duration, let message): object = ["vertex": id + 1, "event": "failed", "duration": duration, "error": message]
        }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            write(String(decoding: data, as: UTF8.self))
        }
    }

    private func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
