/// A `RUN --mount=…` specification, parsed with the rules of BuildKit's `parseMount`.
public struct MountSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case bind, cache, tmpfs, secret, ssh
    }

    public var kind: Kind = .bind
    public var from = ""
    public var source = ""
    public var target = ""
    public var readOnly = false
    public var sizeLimit: Int64 = 0
    public var cacheID = ""
    public var sharing = ""
    public var required = false
    public var environmentVariable: String?
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    static let allKeys = [
        "type", "from", "source", "target", "readonly", "id", "sharing", "required", "size", "mode", "uid", "gid", "src",
        "dst", "destination", "ro", "rw", "readwrite", "env",
    ]

    /// Parses a `--mount` value. Without `expand`, only the checks that need no variables are made
    /// (as BuildKit does at parse time); with it, each value is expanded first and every field is checked.
    public static func parse(_ text: String, expand: ((String) throws(DockerfileError) -> String)?) throws(DockerfileError) -> MountSpec {
        let fields: [String]
        do {
            fields = try CSVFields.parse(text)
        } catch {
            throw DockerfileError("failed to parse csv mounts: \(error.message)")
        }
        var mount = MountSpec()
        var readOnlyIsAutomatic = true
        for field in fields {
            let key: String
            var value: String
            let hasValue: Bool
            if let equals = field.firstIndex(of: "=") {
                key = field[..<equals].lowercased()
                value = String(field[field.index(after: equals)...])
                hasValue = true
            } else {
                key = field.lowercased()
                value = ""
                hasValue = false
            }
            if !hasValue {
                guard expand != nil else { continue }
                switch key {
                case "readonly", "ro":
                    mount.readOnly = true
                    readOnlyIsAutomatic = false
                case "readwrite", "rw":
                    mount.readOnly = false
                    readOnlyIsAutomatic = false
                case "required":
                    guard mount.kind == .secret || mount.kind == .ssh else {
                        throw DockerfileError("unexpected key '\(key)' for mount type '\(mount.kind.rawValue)'")
                    }
                    mount.required = true
                default:
                    throw DockerfileError("invalid field '\(field)' must be a key=value pair")
                }
                continue
            }
            if let expand {
                value = try expand(value)
            } else if key == "from" {
                if let dollar = value.firstIndex(of: "$"), value.index(after: dollar) != value.endIndex {
                    throw DockerfileError("'\(key)' doesn't support variable expansion, define alias stage instead")
                }
            } else {
                continue
            }
            switch key {
            case "type":
                guard let kind = Kind(rawValue: value.lowercased()) else {
                    var message = "unsupported mount type \(goQuoted(value))"
                    if let suggestion = Suggestion.closest(to: value, in: Kind.allCases.map(\.rawValue)) {
                        message += " (did you mean \(suggestion)?)"
                    }
                    throw DockerfileError(message)
                }
                mount.kind = kind
            case "from": mount.from = value
            case "source", "src": mount.source = value
            case "target", "dst", "destination": mount.target = value
            case "readonly", "ro":
                guard let flag = goBool(value) else { throw DockerfileError("invalid value for \(key): \(value)") }
                mount.readOnly = flag
                readOnlyIsAutomatic = false
            case "readwrite", "rw":
                guard let flag = goBool(value) else { throw DockerfileError("invalid value for \(key): \(value)") }
                mount.readOnly = !flag
                readOnlyIsAutomatic = false
            case "required":
                guard mount.kind == .secret || mount.kind == .ssh else {
                    throw DockerfileError("unexpected key '\(key)' for mount type '\(mount.kind.rawValue)'")
                }
                guard let flag = goBool(value) else { throw DockerfileError("invalid value for \(key): \(value)") }
                mount.required = flag
            case "size":
                guard mount.kind == .tmpfs else {
                    throw DockerfileError("unexpected key '\(key)' for mount type '\(mount.kind.rawValue)'")
                }
                guard let size = ByteSize.parseRAM(value) else { throw DockerfileError("invalid value for \(key): \(value)") }
                mount.sizeLimit = size
            case "id": mount.cacheID = value
            case "sharing":
                let sharing = value.lowercased()
                guard ["shared", "private", "locked"].contains(sharing) else {
                    throw DockerfileError("unsupported sharing value \(goQuoted(value))")
                }
                mount.sharing = sharing
            case "mode":
                guard let mode = UInt32(value, radix: 8) else { throw DockerfileError("invalid value \(value) for mode") }
                mount.mode = mode
            case "uid":
                guard let uid = UInt32(value) else { throw DockerfileError("invalid value \(value) for uid") }
                mount.uid = uid
            case "gid":
                guard let gid = UInt32(value) else { throw DockerfileError("invalid value \(value) for gid") }
                mount.gid = gid
            case "env":
                mount.environmentVariable = value
            default:
                var message = "unexpected key '\(key)' in '\(field)'"
                if let suggestion = Suggestion.closest(to: key, in: allKeys) { message += " (did you mean \(suggestion)?)" }
                throw DockerfileError(message)
            }
        }
        let allowsFileInfo = mount.kind == .secret || mount.kind == .ssh || mount.kind == .cache
        if !allowsFileInfo {
            if mount.mode != nil { throw DockerfileError("mode not allowed for \(goQuoted(mount.kind.rawValue)) type mounts") }
            if mount.uid != nil { throw DockerfileError("uid not allowed for \(goQuoted(mount.kind.rawValue)) type mounts") }
            if mount.gid != nil { throw DockerfileError("gid not allowed for \(goQuoted(mount.kind.rawValue)) type mounts") }
        }
        if readOnlyIsAutomatic {
            mount.readOnly = !(mount.kind == .cache || mount.kind == .tmpfs)
        }
        if mount.kind == .secret {
            if !mount.from.isEmpty { throw DockerfileError("secret mount should not have a from") }
            if !mount.sharing.isEmpty { throw DockerfileError("secret mount should not define sharing") }
            if mount.source.isEmpty && mount.target.isEmpty && mount.cacheID.isEmpty {
                throw DockerfileError("invalid secret mount. one of source, target required")
            }
            if !mount.source.isEmpty && !mount.cacheID.isEmpty {
                throw DockerfileError("both source and id can't be set")
            }
        }
        if !mount.sharing.isEmpty && mount.kind != .cache {
            throw DockerfileError("invalid cache sharing set for \(mount.kind.rawValue) mount")
        }
        return mount
    }

    /// Go's `strconv.ParseBool`.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}

/// Splits one CSV record into fields (RFC 4180 quoting, as Go's `encoding/csv` reads a single line).
enum CSVFields {
    struct Failure: Error { var message: String }

    static func parse(_ text: String) throws(Failure) -> [String] {
        var fields: [String] = []
        var scalars = Substring(text).unicodeScalars[...]
        while true {
            var field = String.UnicodeScalarView()
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                while true {
                    guard let scalar = scalars.first else { throw Failure(message: "extraneous or missing \" in quoted-field") }
                    scalars = scalars.dropFirst()
                    if scalar == "\"" {
                        if scalars.first == "\"" {
                            field.append("\"")
                            scalars = scalars.dropFirst()
                            continue
                        }
                        guard scalars.isEmpty || scalars.first == "," else {
                            throw Failure(message: "extraneous or missing \" in quoted-field")
                        }
                        break
                    }
                    field.append(scalar)
                }
            } else {
                while let scalar = scalars.first, scalar != "," {
                    if scalar == "\"" { throw Failure(message: "bare \" in non-quoted-field") }
                    field.append(scalar)
                    scalars = scalars.dropFirst()
                }
            }
            fields.append(String(field))
            guard scalars.first == "," else { break }
            scalars = scalars.dropFirst()
        }
        return fields
    }
}

/// Byte sizes as docker's `units.RAMInBytes` reads them for `--mount size=`, `--keep-storage` and `--shm-size`.
public enum ByteSize {
    /// `64m`, `1g`, `10GB`, `512KiB`, `1.5g`, `100` in bytes; every unit is a binary multiple, as in docker
    /// (`10GB` is 10 GiB). Nil for anything else.
    public static func parseRAM(_ text: String) -> Int64? {
        let lower = text.lowercased().trimmingGoSpace()
        var number = ""
        var rest = Substring(lower)
        while let c = rest.first, c.isNumber || c == "." {
            number.append(c)
            rest = rest.dropFirst()
        }
        guard let value = Double(number), value >= 0 else { return nil }
        let suffix = rest.trimmingCharacters(in: " ")
        let kib = 1024.0, mib = kib * 1024, gib = mib * 1024, tib = gib * 1024, pib = tib * 1024
        let multipliers: [String: Double] = [
            "": 1, "b": 1, "k": kib, "kb": kib, "kib": kib, "m": mib, "mb": mib, "mib": mib,
            "g": gib, "gb": gib, "gib": gib, "t": tib, "tb": tib, "tib": tib,
            "p": pib, "pb": pib, "pib": pib,
        ]
        guard let multiplier = multipliers[suffix] else { return nil }
        return Int64(value * multiplier)
    }
}

private extension Substring {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
