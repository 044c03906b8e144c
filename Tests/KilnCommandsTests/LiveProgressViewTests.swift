import Foundation
import KilnSolver
import Testing

@testable import KilnCommands

@Suite("Live progress view")
struct LiveProgressViewTests {
    let start = Date(timeIntervalSince1970: 1_000)

    func at(_ seconds: TimeInterval) -> Date { start.addingTimeInterval(seconds) }

    @Test("running steps show a live timer and their last output lines; finished ones their time; the final frame lists all")
    func frames() {
        let view = LiveProgressView(started: start, width: 60) { _ in }
        view.handle(.started(0, name: "[1/3] FROM busybox:1"), at: at(0))
        view.handle(.finished(0, duration: 0.1, layerSize: nil), at: at(0.1))
        view.handle(.started(1, name: "[2/3] COPY . ."), at: at(0.1))
        view.handle(.cached(1), at: at(0.1))
        view.handle(.finished(1, duration: 0, layerSize: nil), at: at(0.1))
        view.handle(.started(2, name: "[3/3] RUN make"), at: at(0.2))
        for line in ["one", "two", "three", "four"] { view.handle(.output(2, Array((line + "\n").utf8)), at: at(0.5)) }
        view.handle(.output(2, Array("partial".utf8)), at: at(0.6))

        let running = view.frame(at: at(2.2), final: false)
        #expect(running == [
            "[+] Building 2.2s (2/3)",
            " => [1/3] FROM busybox:1" + String(repeating: " ", count: 32) + "0.1s",
            " => CACHED [2/3] COPY . ." + String(repeating: " ", count: 31) + "0.0s",
            " => [3/3] RUN make" + String(repeating: " ", count: 38) + "2.0s",
            " => => # two", " => => # three", " => => # four",
        ])
        for line in running { #expect(line.count <= 60) }

        view.handle(.finished(2, duration: 2.5, layerSize: 10), at: at(2.7))
        let final = view.frame(at: at(2.7), final: true)
        #expect(final.first == "[+] Building 2.7s (3/3) FINISHED")
        #expect(final.count == 4)
        #expect(final.last?.hasSuffix("2.5s") == true)
    }

    @Test("long names are cut to the terminal width; many finished steps collapse into a count; a failure keeps its message")
    func collapsing() {
        let view = LiveProgressView(started: start, width: 40) { _ in }
        for id in 0..<12 {
            view.handle(.started(id, name: "step \(id) " + String(repeating: "x", count: 50)), at: at(0))
            view.handle(.finished(id, duration: 1, layerSize: nil), at: at(1))
        }
        view.handle(.started(12, name: "[2/2] RUN false"), at: at(1))
        view.handle(.failed(12, duration: 0.5, message: "exit code: 1"), at: at(1.5))
        let frame = view.frame(at: at(2), final: false)
        #expect(frame[1] == " => … 5 earlier steps finished")
        #expect(frame.count == 2 + 8 + 1)
        #expect(frame.allSatisfy { $0.count <= 40 })
        #expect(frame.last == " => => # ERROR: exit code: 1")
        #expect(frame[frame.count - 2].hasPrefix(" => ERROR [2/2] RUN false"))
    }

    @Test("redrawing moves the cursor back over the previous frame; writes go to the sink")
    func redraw() async throws {
        let written = Collected()
        let view = LiveProgressView(started: start, width: 50) { text in written.append(text) }
        view.handle(.started(0, name: "[1/1] RUN sleep 1"))
        view.start()
        try await Task.sleep(for: .milliseconds(350))
        view.handle(.finished(0, duration: 0.35, layerSize: nil))
        view.finish()
        let chunks = written.all
        #expect(chunks.count >= 2)
        #expect(chunks.dropFirst().allSatisfy { $0.hasPrefix("\u{1B}[2A\u{1B}[J") })
        #expect(chunks.last?.contains("FINISHED") == true)
    }
}

private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var chunks: [String] = []
    func append(_ text: String) { lock.withLock { chunks.append(text) } }
    var all: [String] { lock.withLock { chunks } }
}
