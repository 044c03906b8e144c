import Foundation
import KilnOCI

/// The containers registries configuration (`/etc/containers/registries.conf` and `registries.conf.d/*.conf`,
/// version 2): per-prefix registries with mirrors, insecure and blocked flags, short-name aliases, and the
/// unqualified-search list. kiln reads the subset of TOML these files use.
///
/// A short name without an alias means Docker Hub, as in docker and BuildKit: kiln does not search the
/// unqualified-search registries (which podman does, and which makes the same Dockerfile pull different images
/// on different machines).
///
/// Source: https://github.com/containers/image/blob/main/docs/containers-registries.conf.5.md
public struct RegistriesConf: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        /// `host[:port][/path]`.
        public var location: String
        public var insecure: Bool
    }

    public struct Registry: Sendable, Equatable {
        /// The reference prefix this entry applies to (defaults to `location`).
        public var prefix: String
        public var location: String
        public var insecure: Bool
        public var blocked: Bool
        public var mirrors: [Endpoint]
    }

    public var registries: [Registry] = []
    public var unqualifiedSearchRegistries: [String] = []
    /// `[aliases]`: short name (`busybox`, `team/tool`) → fully qualified name.
    public var aliases: [String: String] = [:]

    public init() {}

    /// Reads `/etc/containers/registries.conf` then the drop-ins in `registries.conf.d` (later files win),
    /// or the files named by `$CONTAINERS_REGISTRIES_CONF`.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RegistriesConf {
        var paths: [String] = []
        if let file = environment["CONTAINERS_REGISTRIES_CONF"], !file.isEmpty {
            paths = [file]
        } else {
            paths = ["/etc/containers/registries.conf"]
            let directory = "/etc/containers/registries.conf.d"
            let dropIns = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".conf") }.sorted()
            paths += dropIns.map { directory + "/" + $0 }
        }
        var result = RegistriesConf()
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do {
                result.merge(try parse(String(decoding: data, as: UTF8.self)))
            } catch {
                throw RegistryError(.unexpectedResponse, "\(path): \(error)")
            }
        }
        return result
    }

    mutating func merge(_ other: RegistriesConf) {
        for registry in other.registries {
            registries.removeAll { $0.prefix == registry.prefix }
            registries.append(registry)
        }
        if !other.unqualifiedSearchRegistries.isEmpty { unqualifiedSearchRegistries = other.unqualifiedSearchRegistries }
        aliases.merge(other.aliases) { $1 }
    }

    /// `text` with its name replaced by its alias when it is a short name (no registry host) that has one:
    /// `busybox:1` → `registry.example/mirror/busybox:1`. Anything else is returned as it is.
    public func resolvingAlias(_ text: String) -> String {
        guard !aliases.isEmpty else { return text }
        let components = text.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, let first = components.first, first.contains(".") || first.contains(":") || first == "localhost" {
            return text
        }
        let lastSlash = text.lastIndex(of: "/").map { text.index(after: $0) } ?? text.startIndex
        let suffixStart = text[lastSlash...].firstIndex { $0 == ":" || $0 == "@" } ?? text.endIndex
        guard let alias = aliases[String(text[..<suffixStart])] else { return text }
        return alias + text[suffixStart...]
    }

    struct SyntaxError: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "line \(line): \(reason)" }
    }

    /// Parses one file.
    public static func parse(_ text: String) throws -> RegistriesConf {
        var conf = RegistriesConf()
        enum Section { case top, registry, mirror, aliases, other }
        var section = Section.top
        var current: Registry?
        var prefixGiven = false
        func flush() {
            if var registry = current {
                if !prefixGiven { registry.prefix = registry.location }
                conf.registries.append(registry)
            }
            current = nil
            prefixGiven = false
        }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Self.strippingComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                switch line.replacingOccurrences(of: " ", with: "") {
                case "[[registry]]":
                    flush()
                    current = Registry(prefix: "", location: "", insecure: false, blocked: false, mirrors: [])
                    section = .registry
                case "[aliases]":
                    flush()
                    section = .aliases
                case "[[registry.mirror]]":
                    guard current != nil else { throw SyntaxError(line: number + 1, reason: "[[registry.mirror]] outside a [[registry]]") }
                    current?.mirrors.append(Endpoint(location: "", insecure: false))
                    section = .mirror
                default:
                    flush()
                    section = .other
                }
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw SyntaxError(line: number + 1, reason: "expected key = value") }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            let value = try Self.value(String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces), line: number + 1)
            switch (section, key) {
            case (.top, "unqualified-search-registries"): conf.unqualifiedSearchRegistries = value.strings
            case (.aliases, _): conf.aliases[key] = value.string
            case (.registry, "prefix"): current?.prefix = value.string; prefixGiven = true
            case (.registry, "location"): current?.location = value.string
            case (.registry, "insecure"): current?.insecure = value.bool
            case (.registry, "blocked"): current?.blocked = value.bool
            case (.mirror, "location"):
                if var registry = current, !registry.mirrors.isEmpty {
                    registry.mirrors[registry.mirrors.count - 1].location = value.string
                    current = registry
                }
            case (.mirror, "insecure"):
                if var registry = current, !registry.mirrors.isEmpty {
                    registry.mirrors[registry.mirrors.count - 1].insecure = value.bool
                    current = registry
                }
            default: break  // keys kiln does not use (short-name-mode, pull-from-mirror, …)
            }
        }
        flush()
        return conf
    }

    enum Value {
        case string(String), bool(Bool), array([String]), other
        var string: String { if case .string(let s) = self { return s }; return "" }
        var bool: Bool { if case .bool(let b) = self { return b }; return false }
        var strings: [String] { if case .array(let a) = self { return a }; return [] }
    }

    static func value(_ text: String, line: Int) throws -> Value {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if text.hasPrefix("\"") || text.hasPrefix("'") {
            guard text.count >= 2, text.last == text.first else { throw SyntaxError(line: line, reason: "unterminated string") }
            return .string(String(text.dropFirst().dropLast()))
        }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]") else { throw SyntaxError(line: line, reason: "arrays must be on one line") }
            let inner = text.dropFirst().dropLast()
            return .array(inner.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }.filter { !$0.isEmpty })
        }
        return .other
    }

    /// The line without a `#` comment (outside quotes).
    static func strippingComment(_ line: String) -> String {
        var quote: Character?
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" {
                return String(line.prefix(offset))
            }
        }
        return line
    }

    /// The entry whose prefix matches `reference` longest (`docker.io/library` matches `docker.io/library/busybox`).
    public func registry(for reference: ImageReference) -> Registry? {
        let name = reference.name
        return registries.filter { entry in
            name == entry.prefix || name.hasPrefix(entry.prefix + "/") || (entry.prefix.hasPrefix("*.") && reference.domain.hasSuffix(entry.prefix.dropFirst()))
        }.max { $0.prefix.count < $1.prefix.count }
    }

    /// Where to try pulling `reference` from, in order: its mirrors, then its (possibly rewritten) location.
    /// - Throws: when the registry is blocked.
    public func pullSources(for reference: ImageReference) throws -> [(reference: ImageReference, insecure: Bool)] {
        guard let entry = registry(for: reference) else { return [(reference, false)] }
        guard !entry.blocked else {
            throw RegistryError(.denied, "registry \(reference.domain) is blocked in registries.conf")
        }
        func rewritten(_ location: String) -> ImageReference? {
            guard !entry.prefix.hasPrefix("*.") else { return reference }
            let rest = String(reference.name.dropFirst(entry.prefix.count))
            var text = location + rest
            if let tag = reference.tag { text += ":" + tag }
            if let digest = reference.digest { text += "@" + digest.description }
            return try? ImageReference(parsing: text)
        }
        var sources: [(ImageReference, Bool)] = entry.mirrors.compactMap { mirror in rewritten(mirror.location).map { ($0, mirror.insecure) } }
        if let original = rewritten(entry.location.isEmpty ? entry.prefix : entry.location) {
            sources.append((original, entry.insecure))
        }
        return sources
    }

    /// Hosts marked insecure anywhere in the configuration.
    public var insecureHosts: Set<String> {
        var hosts = Set<String>()
        for entry in registries {
            if entry.insecure, let host = entry.location.split(separator: "/").first { hosts.insert(String(host)) }
            for mirror in entry.mirrors where mirror.insecure {
                if let host = mirror.location.split(separator: "/").first { hosts.insert(String(host)) }
            }
        }
        return hosts
    }
}
