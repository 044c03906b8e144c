import KilnGraph

/// A node of the Dockerfile syntax tree, shaped like BuildKit's `parser.Node`.
///
/// The root node's `children` are the instructions. An instruction's `value` is its keyword as written,
/// `flags` the `--flag` words before its arguments, and `next` its argument nodes. An argument node that
/// has `children` is a nested instruction (the trigger of `ONBUILD`).
public struct Node: Sendable, Equatable {
    /// The keyword of an instruction, or the text of an argument.
    public var value: String
    /// The argument nodes, in order.
    public var next: [Node]
    /// Nested instructions: the instructions of the root, or the trigger of `ONBUILD`.
    public var children: [Node]
    /// Heredoc bodies attached to the instruction.
    public var heredocs: [Heredoc]
    /// Whether the arguments were written in JSON (exec) form.
    public var isJSON: Bool
    /// The instruction line as written, with continuations joined.
    public var original: String
    /// The `--flag[=value]` words given before the arguments.
    public var flags: [String]
    /// The 1-based line where the instruction starts.
    public var startLine: Int
    /// The 1-based line where the instruction (including heredoc bodies) ends.
    public var endLine: Int
    /// The comment lines directly before the instruction.
    public var previousComments: [String]

    public init(
        value: String = "", next: [Node] = [], children: [Node] = [], heredocs: [Heredoc] = [],
        isJSON: Bool = false, original: String = "", flags: [String] = [], startLine: Int = 0,
        endLine: Int = 0, previousComments: [String] = []
    ) {
        self.value = value
        self.next = next
        self.children = children
        self.heredocs = heredocs
        self.isJSON = isJSON
        self.original = original
        self.flags = flags
        self.startLine = startLine
        self.endLine = endLine
        self.previousComments = previousComments
    }

    /// The instruction keyword in lower case (`run`, `from`, …).
    public var keyword: String { value.lowercased() }

    /// The arguments as plain strings, with a nested instruction flattened to its keyword and arguments
    /// (BuildKit's `nodeArgs`).
    public var arguments: [String] {
        var result: [String] = []
        for argument in next {
            if argument.children.isEmpty {
                result.append(argument.value)
            } else if argument.children.count == 1 {
                result.append(argument.children[0].value)
                result.append(contentsOf: argument.children[0].arguments)
            }
        }
        return result
    }

    /// The source range of the instruction.
    public var range: SourceRange {
        SourceRange(start: SourcePosition(line: startLine, column: 1), end: SourcePosition(line: endLine, column: 1))
    }

    /// The tree as S-expressions, byte for byte as BuildKit's `Node.Dump`.
    public func dump() -> String {
        var text = value.lowercased()
        if !flags.isEmpty {
            text += " [" + flags.map(goQuoted).joined(separator: " ") + "]"
        }
        for child in children {
            text += "(" + child.dump() + ")\n"
        }
        for argument in next {
            text += " " + (argument.children.isEmpty ? goQuoted(argument.value) : argument.dump())
        }
        return text.trimmingGoSpace()
    }
}

/// A here-document attached to an instruction (`RUN <<EOF`).
public struct Heredoc: Sendable, Equatable {
    /// The delimiter word with quotes removed.
    public var name: String
    /// The file descriptor written before `<<` (0 when none).
    public var fileDescriptor: Int
    /// Whether variables in the body are expanded (false when any part of the delimiter was quoted).
    public var expand: Bool
    /// Whether leading tabs are removed from every line (`<<-`).
    public var chomp: Bool
    /// The raw body: every line with its newline, tabs not yet removed.
    public var content: String

    public init(name: String, fileDescriptor: Int = 0, expand: Bool = true, chomp: Bool = false, content: String = "") {
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.expand = expand
        self.chomp = chomp
        self.content = content
    }

    /// The body with leading tabs removed from every line, as `<<-` asks.
    public var chompedContent: String { Heredoc.removingLeadingTabs(content) }

    /// Removes leading tabs from every line of `text`.
    public static func removingLeadingTabs(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var atLineStart = true
        for scalar in text.unicodeScalars {
            if atLineStart && scalar == "\t" { continue }
            atLineStart = scalar == "\n"
            result.unicodeScalars.append(scalar)
        }
        return result
    }
}
