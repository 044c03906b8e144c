/// An image reference (`busybox`, `gcc:12`, `127.0.0.1:5000/library/busybox:1`, `alpine@sha256:…`), parsed and
/// normalised the way docker does: `busybox` means `docker.io/library/busybox:latest`.
///
/// Source: https://github.com/distribution/reference (reference.go, normalize.go)
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry host, with port (`docker.io`, `127.0.0.1:5000`).
    public var domain: String
    /// The repository path (`library/busybox`).
    public var path: String
    public var tag: String?
    public var digest: Digest?

    /// Why a reference is invalid, in docker's words.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reference: String
        public var reason: String
        public var description: String { reason }

        public init(reference: String, reason: String) {
            self.reference = reference
            self.reason = reason
        }
    }

    public static let defaultDomain = "docker.io"
    static let legacyDefaultDomain = "index.docker.io"
    static let officialRepositoryPrefix = "library/"
    static let maximumNameLength = 255

    /// Parses and normalises `text`; a reference without tag or digest gets the tag `latest`.
    public init(parsing text: String) throws(ParseError) {
        func fail(_ reason: String) -> ParseError { ParseError(reference: text, reason: reason) }
        guard !text.isEmpty else { throw fail("invalid reference format") }

        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            let digestText = String(rest[rest.index(after: at)...])
            do {
                digest = try Digest(parsing: digestText)
            } catch {
                throw fail("invalid reference format")
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            guard Self.isValidTag(tag!) else { throw fail("invalid reference format") }
        }
        let name = String(rest)
        guard !name.isEmpty else { throw fail("invalid reference format") }

        var domain: String
        var path: String
        if let slash = name.firstIndex(of: "/") {
            let first = String(name[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                domain = first
                path = String(name[name.index(after: slash)...])
            } else {
                domain = Self.defaultDomain
                path = name
            }
        } else {
            domain = Self.defaultDomain
            path = name
        }
        if domain == Self.legacyDefaultDomain { domain = Self.defaultDomain }
        if domain == Self.defaultDomain && !path.contains("/") { path = Self.officialRepositoryPrefix + path }
        if path.lowercased() != path {
            throw fail("invalid reference format: repository name (\(path)) must be lowercase")
        }
        guard Self.isValidDomain(domain), Self.isValidPath(path) else { throw fail("invalid reference format") }
        guard domain.count + 1 + path.count <= Self.maximumNameLength else {
            throw fail("invalid reference format: repository name must not be more than 255 characters")
        }
        self.domain = domain
        self.path = path
        self.tag = tag ?? (digest == nil ? "latest" : nil)
        self.digest = digest
    }

    /// `domain/path`.
    public var name: String { "\(domain)/\(path)" }

    /// The shortest form docker shows (`busybox:latest`, `gcc:12`, `127.0.0.1:5000/library/busybox:1`).
    public var familiarDescription: String {
        var shown = name
        if domain == Self.defaultDomain {
            shown = path.hasPrefix(Self.officialRepositoryPrefix) ? String(path.dropFirst(Self.officialRepositoryPrefix.count)) : path
        }
        return shown + suffix
    }

    private var suffix: String {
        (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// The fully qualified form (`docker.io/library/busybox:latest`).
    public var description: String { name + suffix }

    static func isValidTag(_ tag: String) -> Bool {
        // [\w][\w.-]{0,127}
        guard let first = tag.unicodeScalars.first, tag.unicodeScalars.count <= 128, isWord(first) else { return false }
        return tag.unicodeScalars.allSatisfy { isWord($0) || $0 == "." || $0 == "-" }
    }

    static func isWord(_ s: Unicode.Scalar) -> Bool {
        (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_"
    }

    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("[") {
            // IPv6 literal: [addr]:port
            guard let close = host.firstIndex(of: "]") else { return false }
            let address = host[host.index(after: host.startIndex)..<close]
            guard !address.isEmpty, address.allSatisfy({ $0.isHexDigit || $0 == ":" }) else { return false }
            host = host[host.index(after: close)...]
            if host.isEmpty { return true }
            guard host.first == ":" else { return false }
            let port = host.dropFirst()
            return !port.isEmpty && port.allSatisfy(\.isASCII) && port.allSatisfy(\.isNumber)
        }
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            host = host[..<colon]
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            func alnum(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber) }
            return alnum(first) && alnum(last) && label.allSatisfy { alnum($0) || $0 == "-" }
        }
    }

    static func isValidPath(_ path: String) -> Bool {
        // path-component: [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
        path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            let scalars = Array(component.unicodeScalars)
            func alnum(_ s: Unicode.Scalar) -> Bool { (s >= "a" && s <= "z") || (s >= "0" && s <= "9") }
            guard let first = scalars.first, let last = scalars.last, alnum(first), alnum(last) else { return false }
            var index = 0
            while index < scalars.count {
                if alnum(scalars[index]) { index += 1; continue }
                // A separator: ".", "_", "__" or a run of "-".
                var end = index
                if scalars[index] == "-" {
                    while end < scalars.count, scalars[end] == "-" { end += 1 }
                } else if scalars[index] == "_" {
                    end += 1
                    if end < scalars.count, scalars[end] == "_" { end += 1 }
                } else if scalars[index] == "." {
                    end += 1
                } else {
                    return false
                }
                guard end < scalars.count, alnum(scalars[end]) else { return false }
                index = end
            }
            return true
        }
    }
}
