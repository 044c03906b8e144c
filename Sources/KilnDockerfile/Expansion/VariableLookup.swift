/// Something that can look up the value of a build variable by name.
public protocol VariableLookup: Sendable {
    /// The value of `name`, or nil when it is not set. An empty string means set but empty.
    func value(of name: String) -> String?
}

/// An ordered set of `NAME=value` variables (build args or environment), where a later value wins.
public struct VariableSet: VariableLookup, Equatable, Sendable {
    /// The names in the order they were first set.
    public private(set) var names: [String] = []
    private var values: [String: String] = [:]

    public init() {}

    /// Builds a set from `NAME=value` strings; an entry without `=` sets an empty value.
    public init(assignments: [String]) {
        for assignment in assignments {
            if let equals = assignment.firstIndex(of: "=") {
                self[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
            } else {
                self[assignment] = ""
            }
        }
    }

    public init(_ pairs: KeyValuePairs<String, String>) {
        for (name, value) in pairs { self[name] = value }
    }

    public subscript(name: String) -> String? {
        get { values[name] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: name) == nil { names.append(name) }
            } else if values.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    public func value(of name: String) -> String? { values[name] }

    public var isEmpty: Bool { names.isEmpty }

    /// The variables as `NAME=value` strings, in order.
    public var assignments: [String] { names.map { "\($0)=\(values[$0]!)" } }

    /// The variables as ordered pairs.
    public var pairs: [(name: String, value: String)] { names.map { ($0, values[$0]!) } }
}

/// A lookup that finds nothing.
public struct EmptyVariables: VariableLookup {
    public init() {}
    public func value(of name: String) -> String? { nil }
}
