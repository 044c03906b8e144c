import ArgumentParser
import Foundation
import KilnArchive
import KilnSolver

/// `--secret id=ID[,src=PATH|,env=VAR]` (also `type=file|env`): the secrets RUN steps may mount.
enum SecretFlag {
    static func parse(_ values: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: [UInt8]] {
        var secrets: [String: [UInt8]] = [:]
        for value in values {
            let fields = try KeyValueList.parse(value, flag: "--secret")
            guard let id = fields["id"], !id.isEmpty else { throw ValidationError("--secret \(value): an id is required (id=NAME,src=PATH)") }
            if let path = fields["src"] ?? fields["source"] {
                guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--secret \(id): cannot read \(path)") }
                secrets[id] = Array(data)
            } else if let variable = fields["env"] ?? (fields["type"] == "env" ? id : nil) {
                guard let text = environment[variable] else { throw ValidationError("--secret \(id): environment variable \(variable) is not set") }
                secrets[id] = Array(text.utf8)
            } else if let text = environment[id] {
                secrets[id] = Array(text.utf8)
            } else if let data = FileManager.default.contents(atPath: id) {
                secrets[id] = Array(data)
            } else {
                throw ValidationError("--secret \(id): give src=PATH or env=VAR")
            }
        }
        return secrets
    }
}

/// `--ssh default|ID[=SOCKET]`: SSH agent sockets RUN steps may mount.
enum SSHFlag {
    static func parse(_ values: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: String] {
        var agents: [String: String] = [:]
        for value in values {
            let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
            let id = parts[0]
            guard let socket = parts.count > 1 ? parts[1] : environment["SSH_AUTH_SOCK"] else {
                throw ValidationError("--ssh \(id): SSH_AUTH_SOCK is not set; give \(id)=/path/to/agent.sock")
            }
            agents[id] = socket
        }
        return agents
    }
}

/// `--output type=image|oci|docker|local|tar,dest=…,name=…,push=true[,compression=gzip|zstd|uncompressed]
/// [,compression-level=N]` as buildx takes it, and the short forms `-o DIR` and `-o -`.
struct OutputFlag: Equatable {
    enum Kind: String {
        case image, oci, docker, local, tar
    }

    var kind: Kind
    var destination: String?
    var names: [String] = []
    var push = false
    /// Compression of the layers the build makes (`compression=`); nil leaves the default, gzip.
    var compression: CompressionFormat?
    /// `compression-level=`: gzip 1–9, zstd 1–19.
    var compressionLevel: Int32?

    static func parse(_ value: String) throws -> OutputFlag {
        if !value.contains("=") {
            return value == "-" ? OutputFlag(kind: .tar, destination: "-") : OutputFlag(kind: .local, destination: value)
        }
        let fields = try KeyValueList.parse(value, flag: "--output")
        guard let kind = Kind(rawValue: fields["type"] ?? "local") else {
            throw ValidationError("--output \(value): unknown type \(fields["type"] ?? ""); use image, oci, docker, local or tar")
        }
        var output = OutputFlag(kind: kind, destination: fields["dest"])
        output.names = (fields["name"] ?? "").split(separator: ",").map(String.init)
        output.push = fields["push"] == "true"
        if kind != .image && output.destination == nil { throw ValidationError("--output \(value): dest=… is required for type=\(kind.rawValue)") }
        switch fields["compression"] {
        case nil: break
        case "gzip": output.compression = .gzip
        case "zstd": output.compression = .zstd
        case "uncompressed": output.compression = CompressionFormat.none
        case let other?: throw ValidationError("--output \(value): unknown compression \(other); use gzip, zstd or uncompressed")
        }
        if let level = fields["compression-level"] {
            let range: ClosedRange<Int32> = output.compression == .zstd ? 1...19 : 1...9
            guard let number = Int32(level), range.contains(number) else {
                throw ValidationError("--output \(value): compression-level must be \(range.lowerBound)–\(range.upperBound)")
            }
            output.compressionLevel = number
        }
        return output
    }
}

/// `--cache-to`/`--cache-from`: `type=local,dest=DIR|src=DIR`, `type=registry,ref=REF`, or a bare `REF`;
/// `mode=min|max` and kiln's `cache-mounts=true` for exports.
struct CacheFlag: Equatable {
    var location: CacheLocation
    /// Export every step's record (`max`), or only those of the image's own layers (`min`, the default).
    var exportsAllSteps = false
    /// Also export `RUN --mount=type=cache` contents.
    var includesCacheMounts = false

    static func parse(_ value: String, export: Bool) throws -> CacheFlag {
        let flag = export ? "--cache-to" : "--cache-from"
        guard value.contains("=") else { return CacheFlag(location: .registry(try ArgumentValue.reference(value))) }
        let fields = try KeyValueList.parse(value, flag: flag)
        let location: CacheLocation
        switch fields["type"] ?? "registry" {
        case "local":
            guard let path = fields[export ? "dest" : "src"] else { throw ValidationError("\(flag) \(value): \(export ? "dest" : "src")=DIR is required for type=local") }
            location = .local(path)
        case "registry":
            guard let ref = fields["ref"] else { throw ValidationError("\(flag) \(value): ref=… is required for type=registry") }
            location = .registry(try ArgumentValue.reference(ref))
        case "inline":
            throw ValidationError("\(flag) \(value): inline cache is not supported; use type=registry,ref=… or type=local")
        case let other:
            throw ValidationError("\(flag) \(value): unknown cache type \(other); use local or registry")
        }
        var cache = CacheFlag(location: location)
        switch fields["mode"] ?? "min" {
        case "min": break
        case "max": cache.exportsAllSteps = true
        case let other: throw ValidationError("\(flag) \(value): invalid mode \(other); use min or max")
        }
        cache.includesCacheMounts = fields["cache-mounts"] == "true"
        return cache
    }
}

/// `a=1,b=2` lists with docker's CSV rules for quotes.
enum KeyValueList {
    static func parse(_ text: String, flag: String) throws -> [String: String] {
        var result: [String: String] = [:]
        var field = ""
        var quoted = false
        var fields: [String] = []
        for character in text {
            if character == "\"" {
                quoted.toggle()
            } else if character == "," && !quoted {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        fields.append(field)
        for item in fields where !item.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else {
                // A bare word is the value of a flag that needs no key (`--secret mysecret` style) or the type.
                result[pair[0]] = result[pair[0]] ?? ""
                if result["id"] == nil && flag == "--secret" { result["id"] = pair[0] }
                continue
            }
            result[pair[0].lowercased()] = pair[1]
        }
        return result
    }
}
