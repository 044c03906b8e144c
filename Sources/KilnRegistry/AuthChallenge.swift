/// A `WWW-Authenticate` challenge: the scheme (`Basic`, `Bearer`) and its parameters (`realm`, `service`, `scope`).
///
/// Source: RFC 7235 section 4.1 and https://distribution.github.io/distribution/spec/auth/token/
public struct AuthChallenge: Sendable, Equatable {
    public var scheme: String
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme
        self.parameters = parameters
    }

    /// Parses a header value such as `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`.
    /// Returns every challenge in the header (several may be offered).
    public static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        var scalars = Substring(header)[...]
        func skipSpaces() { scalars = scalars.drop { $0 == " " || $0 == "\t" } }
        func token() -> String {
            let value = scalars.prefix { !(" \t,=\"".contains($0)) }
            scalars = scalars.dropFirst(value.count)
            return String(value)
        }
        while true {
            skipSpaces()
            while scalars.first == "," { scalars = scalars.dropFirst(); skipSpaces() }
            let scheme = token()
            guard !scheme.isEmpty else { break }
            var parameters: [String: String] = [:]
            while true {
                skipSpaces()
                let save = scalars
                let name = token()
                skipSpaces()
                guard !name.isEmpty, scalars.first == "=" else {
                    // Not a parameter: the start of the next challenge (or the end).
                    scalars = save
                    break
                }
                scalars = scalars.dropFirst()
                skipSpaces()
                var value = ""
                if scalars.first == "\"" {
                    scalars = scalars.dropFirst()
                    while let character = scalars.first, character != "\"" {
                        if character == "\\" {
                            scalars = scalars.dropFirst()
                            if let escaped = scalars.first { value.append(escaped) }
                        } else {
                            value.append(character)
                        }
                        scalars = scalars.dropFirst()
                    }
                    scalars = scalars.dropFirst()
                } else {
                    value = token()
                }
                parameters[name.lowercased()] = value
                skipSpaces()
                if scalars.first == "," {
                    scalars = scalars.dropFirst()
                    // A comma may separate parameters or challenges: peek whether a parameter follows.
                    let peek = scalars.drop { $0 == " " }
                    let nextName = peek.prefix { !(" \t,=\"".contains($0)) }
                    let afterName = peek.dropFirst(nextName.count).drop { $0 == " " }
                    if afterName.first != "=" { break }
                } else {
                    break
                }
            }
            challenges.append(AuthChallenge(scheme: scheme.lowercased(), parameters: parameters))
        }
        return challenges
    }
}
