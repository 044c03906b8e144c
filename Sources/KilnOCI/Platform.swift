/// A target platform: operating system, architecture and optional variant (`linux/arm64/v8`).
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/specs-go/v1/index.go (Platform)
public struct Platform: Sendable, Hashable, Codable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case os
        case architecture
        case variant
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Errors when parsing a platform string.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public var description: String { "invalid platform \"\(text)\": \(reason)" }
    }

    /// Parses and normalises `os[/arch[/variant]]`, or a bare architecture (`arm64`, `amd64`) meaning linux.
    public init(parsing text: String) throws(ParseError) {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.count <= 3, !parts.contains(where: \.isEmpty) else {
            throw ParseError(text: text, reason: "expected os/arch[/variant]")
        }
        for part in parts where !part.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) {
            throw ParseError(text: text, reason: "\"\(part)\" has invalid characters")
        }
        if parts.count == 1 {
            if Self.knownOperatingSystems.contains(parts[0]) {
                self.init(os: parts[0], architecture: Self.host.architecture)
            } else {
                let (arch, variant) = Self.normalise(architecture: parts[0], variant: nil)
                self.init(os: "linux", architecture: arch, variant: variant)
            }
        } else {
            let (arch, variant) = Self.normalise(architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
            self.init(os: parts[0] == "macos" ? "darwin" : parts[0], architecture: arch, variant: variant)
        }
    }

    static let knownOperatingSystems: Set<String> = [
        "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd",
        "plan9", "solaris", "wasip1", "windows",
    ]

    /// containerd's normalisation: `x86_64` → `amd64`, `aarch64` → `arm64`, `armhf` → `arm/v7`, …
    static func normalise(architecture: String, variant: String?) -> (String, String?) {
        switch architecture {
        case "i386": return ("386", nil)
        case "x86_64", "x86-64", "amd64": return ("amd64", variant == "v1" ? nil : variant)
        case "aarch64", "arm64":
            return ("arm64", variant == "8" || variant == "v8" ? nil : variant)
        case "armhf": return ("arm", "v7")
        case "armel": return ("arm", "v6")
        case "arm":
            switch variant {
            case nil, "7": return ("arm", "v7")
            case "5", "6", "8": return ("arm", "v" + variant!)
            default: return ("arm", variant)
            }
        default: return (architecture, variant)
        }
    }

    /// `os/arch[/variant]`.
    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    /// The platform this process runs on.
    public static let host: Platform = {
        #if arch(x86_64)
        return Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return Platform(os: "linux", architecture: "arm64")
        #elseif arch(arm)
        return Platform(os: "linux", architecture: "arm", variant: "v7")
        #else
        return Platform(os: "linux", architecture: "unknown")
        #endif
    }()
}
