import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Times as image configs write them.
public enum Timestamp {
    /// `2026-11-23T20:56:10Z`: RFC 3339 in UTC with whole seconds, as BuildKit writes `created`. Computed
    /// with `gmtime_r` rather than a date formatter, which loads time zone and ICU data (milliseconds that
    /// a no-op rebuild cannot spare).
    public static func rfc3339(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func padded(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(padded(parts.tm_year + 1900, 4))-\(padded(parts.tm_mon + 1, 2))-\(padded(parts.tm_mday, 2))"
            + "T\(padded(parts.tm_hour, 2)):\(padded(parts.tm_min, 2)):\(padded(parts.tm_sec, 2))Z"
    }
}
