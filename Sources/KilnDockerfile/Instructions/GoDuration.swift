/// Go's `time.ParseDuration`: a sequence of decimal numbers with units (`1h30m`, `2.5s`, `300ms`).
enum GoDuration {
    struct Failure: Error, CustomStringConvertible {
        var text: String
        var reason: String
        var description: String { "time: \(reason) \(goQuoted(text))" }
    }

    static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// The duration in nanoseconds.
    static func parse(_ text: String) throws(Failure) -> Int64 {
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { throw Failure(text: text, reason: "invalid duration") }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else {
                throw Failure(text: text, reason: "invalid duration")
            }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unitText.isEmpty else { throw Failure(text: text, reason: "missing unit in duration") }
            guard let unit = units.first(where: { $0.0 == unitText }) else {
                throw Failure(text: text, reason: "unknown unit \(goQuoted(String(unitText))) in duration")
            }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        guard total < 9.3e18 else { throw Failure(text: text, reason: "invalid duration") }
        return Int64(negative ? -total : total)
    }
}
