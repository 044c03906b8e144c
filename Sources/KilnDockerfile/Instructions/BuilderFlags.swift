/// Parses the `--name=value` flags of one instruction, with the rules of BuildKit's `BFlags`:
/// `--` ends the flags, a string flag needs `=`, a bool flag accepts `--b`, `--b=true` and `--b=false`,
/// and unknown flags are errors.
struct BuilderFlags {
    enum Kind { case bool, string, strings }

    private(set) var declared: [String: Kind] = [:]
    private(set) var values: [String: String] = [:]
    private(set) var lists: [String: [String]] = [:]
    private(set) var used: Set<String> = []
    let arguments: [String]

    init(_ arguments: [String]) {
        self.arguments = arguments
    }

    mutating func declareBool(_ name: String, default value: Bool = false) {
        declared[name] = .bool
        values[name] = value ? "true" : "false"
    }

    mutating func declareString(_ name: String, default value: String = "") {
        declared[name] = .string
        values[name] = value
    }

    mutating func declareStrings(_ name: String) {
        declared[name] = .strings
        lists[name] = []
    }

    func string(_ name: String) -> String { values[name] ?? "" }
    func bool(_ name: String) -> Bool { values[name] == "true" }
    func strings(_ name: String) -> [String] { lists[name] ?? [] }
    func isUsed(_ name: String) -> Bool { used.contains(name) }

    mutating func parse() throws(DockerfileError) {
        for argument in arguments {
            if argument == "--" { return }
            guard argument.hasPrefix("--") else { throw DockerfileError("arg should start with -- : \(argument)", token: argument) }
            let flagName: String
            let value: String
            let hasValue: Bool
            if let equals = argument.firstIndex(of: "=") {
                flagName = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
                hasValue = true
            } else {
                flagName = argument
                value = ""
                hasValue = false
            }
            let name = String(flagName.dropFirst(2))
            guard let kind = declared[name] else {
                var message = "unknown flag: \(flagName)"
                if let suggestion = Suggestion.closest(to: name, in: declared.keys.sorted()) {
                    message += " (did you mean \(suggestion)?)"
                }
                throw DockerfileError(message, token: flagName)
            }
            if used.contains(name) && kind != .strings {
                throw DockerfileError("duplicate flag specified: \(flagName)", token: argument)
            }
            used.insert(name)
            switch kind {
            case .bool:
                if hasValue && value.isEmpty { throw DockerfileError("missing a value on flag: \(flagName)", token: argument) }
                switch value.lowercased() {
                case "true", "": values[name] = "true"
                case "false": values[name] = "false"
                default: throw DockerfileError("expecting boolean value for flag \(flagName), not: \(value)", token: argument)
                }
            case .string:
                guard hasValue else { throw DockerfileError("missing a value on flag: \(flagName)", token: argument) }
                values[name] = value
            case .strings:
                guard hasValue else { throw DockerfileError("missing a value on flag: \(flagName)", token: argument) }
                lists[name, default: []].append(value)
            }
        }
    }
}

/// "Did you mean" suggestions, as BuildKit's `suggest.Search`: the first candidate within edit distance 2,
/// none when the word matches a candidate exactly; case-insensitive searches answer in the word's case.
enum Suggestion {
    static func closest(to word: String, in candidates: [String], caseSensitive: Bool = true) -> String? {
        let target = caseSensitive ? word : word.lowercased()
        var match: String?
        var smallest = 3
        for candidate in candidates {
            let option = caseSensitive ? candidate : candidate.lowercased()
            if option == target { return nil }
            let distance = editDistance(target, option)
            if distance < smallest {
                smallest = distance
                match = caseSensitive ? option : matchingCase(option, of: word)
            }
        }
        return match
    }

    private static func matchingCase(_ value: String, of original: String) -> String {
        if original == original.lowercased() { return value.lowercased() }
        if original == original.uppercased() { return value.uppercased() }
        return value
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
