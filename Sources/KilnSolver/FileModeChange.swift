/// A `--chmod` value: octal (`0755`) or symbolic (`u+x,go-w`, `a=rX`), applied to each copied file.
struct FileModeChange: Sendable, Hashable {
    private enum Form: Sendable, Hashable {
        case octal(UInt32)
        case symbolic([Clause])
    }

    private struct Clause: Sendable, Hashable {
        var who: UInt32  // bits of u, g, o as masks 0o4700, 0o2070, 0o1007 combined
        var operation: Character
        var permissions: String
    }

    private let form: Form

    init?(_ text: String) {
        if !text.isEmpty, text.allSatisfy({ $0 >= "0" && $0 <= "7" }), let value = UInt32(text, radix: 8), value <= 0o7777 {
            form = .octal(value)
            return
        }
        var clauses: [Clause] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            var who: UInt32 = 0
            var rest = Substring(part)
            while let first = rest.first, "ugoa".contains(first) {
                switch first {
                case "u": who |= 0o4700
                case "g": who |= 0o2070
                case "o": who |= 0o1007
                default: who |= 0o7777
                }
                rest = rest.dropFirst()
            }
            guard let operation = rest.first, "+-=".contains(operation) else { return nil }
            let permissions = String(rest.dropFirst())
            guard permissions.allSatisfy({ "rwxXst".contains($0) }) else { return nil }
            clauses.append(Clause(who: who == 0 ? 0o7777 : who, operation: operation, permissions: permissions))
        }
        guard !clauses.isEmpty else { return nil }
        form = .symbolic(clauses)
    }

    /// The new permission bits of a file with `mode` (permission bits only) that is a directory or not.
    func apply(to mode: UInt32, isDirectory: Bool) -> UInt32 {
        switch form {
        case .octal(let value):
            return value
        case .symbolic(let clauses):
            var result = mode & 0o7777
            for clause in clauses {
                var bits: UInt32 = 0
                for permission in clause.permissions {
                    switch permission {
                    case "r": bits |= 0o444
                    case "w": bits |= 0o222
                    case "x": bits |= 0o111
                    case "X": if isDirectory || mode & 0o111 != 0 { bits |= 0o111 }
                    case "s": bits |= 0o6000
                    case "t": bits |= 0o1000
                    default: break
                    }
                }
                bits &= clause.who
                switch clause.operation {
                case "+": result |= bits
                case "-": result &= ~bits
                default: result = (result & ~(clause.who & 0o777)) | bits
                }
            }
            return result
        }
    }
}
