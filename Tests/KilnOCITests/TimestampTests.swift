import Foundation
import KilnOCI
import Testing

@Suite("Timestamps")
struct TimestampTests {
    @Test("RFC 3339 in UTC with whole seconds, like ISO8601DateFormatter", arguments: [0, 1, 951_782_400, 1_700_000_000.75, 4_102_444_799])
    func rfc3339(_ seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let expected = ISO8601DateFormatter.string(
            from: Date(timeIntervalSince1970: seconds.rounded(.down)), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
        #expect(Timestamp.rfc3339(date) == expected)
    }
}
