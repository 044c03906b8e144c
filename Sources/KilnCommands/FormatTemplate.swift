import Foundation

/// The part of Go's text/template that `docker inspect --format` and `docker images --format` are used with:
/// text with `{{.Field.Sub}}`, `{{json .Field}}`, `{{index .Map "key"}}`, `{{index .List 0}}`, `{{.}}`, `{{println …}}`, and values
/// printed as Go's `%v` prints them (`[a b]`, `map[k:v]`, `<no value>`). Evaluated over JSON-like values
/// (what JSONSerialization gives).
struct FormatTemplate {
    private enum Part {
        case text(String)
        case action(function: String?, arguments: [Argument])
    }

    private enum Argument {
        case path([String])
        case string(String)
        case integer(Int)
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    private let parts: [Part]

    /// Parses `text`; throws for actions outside the supported part (`range`, `if`, pipes, variables).
    init(_ text: String) throws {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw Invalid(description: "template: unclosed action in \(text)")
            }
            parts.append(try Self.action(String(rest[open.upperBound..<close.lowerBound]), in: text))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    /// The template applied to `value`.
    func render(_ value: Any) throws -> String {
        var output = ""
        for part in parts {
            switch part {
            case .text(let text):
                output += text
            case .action(let function, let arguments):
                let values = arguments.map { argument -> Any? in
                    switch argument {
                    case .path(let fields): return Self.lookUp(fields, in: value)
                    case .string(let text): return text
                    case .integer(let number): return number
                    }
                }
                switch function {
                case nil:
                    output += Self.goString(values[0])
                case "json":
                    let data = try JSONSerialization.data(
                        withJSONObject: values[0] ?? NSNull(), options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
                    output += String(decoding: data, as: UTF8.self)
                case "index":
                    var current = values[0]
                    for key in values.dropFirst() {
                        if let dictionary = current as? [String: Any], let key = key as? String {
                            current = dictionary[key]
                        } else if let array = current as? [Any], let position = key as? Int, array.indices.contains(position) {
                            current = array[position]
                        } else {
                            current = nil
                        }
                    }
                    output += Self.goString(current)
                case "println":
                    output += values.map(Self.goString).joined(separator: " ") + "\n"
                default:
                    break
                }
            }
        }
        return output
    }

    private static func action(_ source: String, in text: String) throws -> Part {
        var words: [String] = []
        var scanner = Substring(source.trimmingCharacters(in: .whitespaces))
        while let first = scanner.first {
            if first == " " {
                scanner = scanner.dropFirst()
            } else if first == "\"" {
                guard let end = scanner.dropFirst().firstIndex(of: "\"") else { throw Invalid(description: "template: unterminated quoted string in \(text)") }
                words.append(String(scanner[...end]))
                scanner = scanner[scanner.index(after: end)...]
            } else {
                let end = scanner.firstIndex(of: " ") ?? scanner.endIndex
                words.append(String(scanner[..<end]))
                scanner = scanner[end...]
            }
        }
        guard let head = words.first else { throw Invalid(description: "template: missing value for command in \(text)") }
        func argument(_ word: String) throws -> Argument {
            if word.hasPrefix("\"") { return .string(String(word.dropFirst().dropLast())) }
            if let number = Int(word) { return .integer(number) }
            guard word.hasPrefix(".") else { throw Invalid(description: "template: \(word) is not supported (kiln understands .Field, json, index and println)") }
            return .path(word == "." ? [] : word.dropFirst().split(separator: ".").map(String.init))
        }
        if head.hasPrefix(".") {
            guard words.count == 1 else { throw Invalid(description: "template: can't give argument to non-function \(head)") }
            return .action(function: nil, arguments: [try argument(head)])
        }
        let arity: [String: ClosedRange<Int>] = ["json": 1...1, "index": 2...9, "println": 0...9]
        guard let allowed = arity[head] else {
            throw Invalid(description: "template: function \"\(head)\" is not supported (kiln understands .Field, json, index and println)")
        }
        guard allowed.contains(words.count - 1) else { throw Invalid(description: "template: wrong number of args for \(head) in \(text)") }
        return .action(function: head, arguments: try words.dropFirst().map(argument))
    }

    private static func lookUp(_ fields: [String], in value: Any) -> Any? {
        var current: Any? = value
        for field in fields {
            guard let dictionary = current as? [String: Any] else { return nil }
            current = dictionary[field]
        }
        return current
    }

    /// `value` as Go's `%v` prints the decoded JSON value.
    static func goString(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "<no value>"
        case let text as String: return text
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }  // JSON true/false
            if number.doubleValue == number.doubleValue.rounded() && abs(number.doubleValue) < 1e15 { return String(number.int64Value) }
            return "\(number.doubleValue)"
        case let array as [Any]: return "[" + array.map { goString($0) }.joined(separator: " ") + "]"
        case let dictionary as [String: Any]:
            return "map[" + dictionary.keys.sorted().map { "\($0):\(goString(dictionary[$0]))" }.joined(separator: " ") + "]"
        default: return "\(value!)"
        }
    }
}
