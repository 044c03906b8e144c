import Foundation
import KilnGraph
import KilnSolver

/// buildx's tty view: a header with the elapsed time and how many steps are done, the finished steps one
/// line each (the earlier ones collapsed into a count when there are many), and the running steps with a
/// live timer and their last output lines, redrawn in place ten times a second.
final class LiveProgressView: @unchecked Sendable {
    struct Step {
        var name: String
        var started: Date
        var finished: Date?
        var cached = false
        var failed = false
        var output: [String] = []
        var partial: [UInt8] = []
    }

    private let lock = NSLock()
    private let started: Date
    private let write: @Sendable (String) -> Void
    private let width: Int
    private var steps: [VertexID: Step] = [:]
    private var order: [VertexID] = []
    private var drawnLines = 0
    private var timer: DispatchSourceTimer?
    /// Finished steps shown above the running ones before the rest collapse into a count.
    private let finishedShown = 8
    /// Output lines shown under a running step.
    private let outputShown = 3

    init(started: Date = Date(), width: Int = LiveProgressView.terminalWidth(), write: @escaping @Sendable (String) -> Void) {
        self.started = started
        self.width = max(40, width)
        self.write = write
    }

    /// Starts redrawing ten times a second (once; later calls do nothing).
    func start() {
        let isRunning = lock.withLock { self.timer != nil || isFinished }
        if isRunning { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "kiln.progress"))
        timer.schedule(deadline: .now(), repeating: .milliseconds(100))
        timer.setEventHandler { [weak self] in self?.redraw(final: false) }
        timer.resume()
        lock.withLock { self.timer = timer }
    }

    private var isFinished = false

    /// Stops redrawing and leaves the final frame (every step) on the screen.
    func finish() {
        let timer = lock.withLock { () -> DispatchSourceTimer? in
            defer { self.timer = nil }
            isFinished = true
            return self.timer
        }
        guard let timer else { return }
        timer.cancel()
        redraw(final: true)
    }

    func handle(_ event: ProgressEvent, at now: Date = Date()) {
        lock.withLock {
            switch event {
            case .started(let id, let name):
                if steps[id] == nil { order.append(id) }
                steps[id] = Step(name: name, started: now)
            case .output(let id, let bytes):
                guard var step = steps[id] else { return }
                var buffer = step.partial + bytes
                step.output = Array((step.output + OutputLines.take(from: &buffer)).suffix(outputShown))
                step.partial = buffer
                steps[id] = step
            case .status(let id, let message):
                let output = steps[id]?.output ?? []
                steps[id]?.output = Array((output + [message]).suffix(outputShown))
            case .cached(let id):
                steps[id]?.cached = true
            case .cacheMiss:
                break
            case .finished(let id, _, _):
                steps[id]?.finished = now
            case .failed(let id, _, let message):
                steps[id]?.finished = now
                steps[id]?.failed = true
                let output = steps[id]?.output ?? []
                steps[id]?.output = Array((output + ["ERROR: " + message]).suffix(outputShown))
            }
        }
    }

    /// The lines of the view at `now`; `final` lists every step and no output of finished ones.
    func frame(at now: Date, final: Bool) -> [String] {
        lock.withLock {
            let done = order.filter { steps[$0]?.finished != nil }
            let running = order.filter { steps[$0]?.finished == nil }
            var lines = ["[+] Building \(Self.seconds(now.timeIntervalSince(started))) (\(done.count)/\(order.count))\(final ? " FINISHED" : "")"]
            var shownDone = done
            if !final && done.count > finishedShown {
                lines.append(" => … \(done.count - finishedShown) earlier steps finished")
                shownDone = Array(done.suffix(finishedShown))
            }
            for id in shownDone {
                guard let step = steps[id], let finished = step.finished else { continue }
                let prefix = step.cached ? "CACHED " : step.failed ? "ERROR " : ""
                lines.append(line(" => " + prefix + step.name, time: finished.timeIntervalSince(step.started)))
                if step.failed { lines += step.output.map { clipped(" => => # " + $0) } }
            }
            for id in running {
                guard let step = steps[id] else { continue }
                lines.append(line(" => " + step.name, time: now.timeIntervalSince(step.started)))
                lines += step.output.map { clipped(" => => # " + $0) }
            }
            return lines
        }
    }

    private func redraw(final: Bool) {
        let lines = frame(at: Date(), final: final)
        let erase = lock.withLock { () -> String in
            defer { drawnLines = final ? 0 : lines.count }
            return drawnLines > 0 ? "\u{1B}[\(drawnLines)A\u{1B}[J" : ""
        }
        write(erase + lines.joined(separator: "\n") + "\n")
    }

    /// `name … 1.2s`, the time right-aligned at the terminal's width.
    private func line(_ text: String, time: TimeInterval) -> String {
        let timeText = Self.seconds(time)
        let room = width - timeText.count - 1
        let shown = text.count > room ? String(text.prefix(max(0, room - 1))) + "…" : text
        return shown + String(repeating: " ", count: max(1, room - shown.count + 1)) + timeText
    }

    private func clipped(_ text: String) -> String {
        text.count > width ? String(text.prefix(width - 1)) + "…" : text
    }

    static func seconds(_ interval: TimeInterval) -> String {
        String(format: "%.1fs", max(0, interval))
    }

    /// The width of the terminal on standard error (80 when unknown).
    static func terminalWidth() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
