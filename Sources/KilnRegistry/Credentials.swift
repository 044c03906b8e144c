import Foundation

/// A user name and secret for a registry (a password, a personal access token, or an identity token).
public struct Credential: Sendable, Equatable {
    public var username: String
    public var secret: String
    /// An OAuth2 refresh token (`identitytoken` in docker's config), used with the token endpoint's POST form.
    public var identityToken: String?

    public init(username: String, secret: String, identityToken: String? = nil) {
        self.username = username
        self.secret = secret
        self.identityToken = identityToken
    }
}

/// Credentials from docker's `config.json` (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`):
/// `auths` entries (base64 `user:password` or `identitytoken`), and `credHelpers`/`credsStore` through
/// `docker-credential-*` helpers. `kiln login` and `kiln logout` write the same file docker reads.
public struct DockerConfig: Sendable {
    public let path: String

    public init(path: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let path {
            self.path = path
        } else if let directory = environment["DOCKER_CONFIG"], !directory.isEmpty {
            self.path = directory + "/config.json"
        } else {
            self.path = (environment["HOME"] ?? NSHomeDirectory()) + "/.docker/config.json"
        }
    }

    /// The keys docker uses for a registry host in `auths`.
    static func keys(for host: String) -> [String] {
        if host == "docker.io" || host == "registry-1.docker.io" || host == "index.docker.io" {
            return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        }
        return [host, "https://\(host)", "http://\(host)", "https://\(host)/v1/", "https://\(host)/v2/"]
    }

    func load() throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RegistryError(.unexpectedResponse, "\(path) is not a JSON object")
        }
        return object
    }

    /// The credential for `host`, if the configuration has one.
    public func credential(for host: String) throws -> Credential? {
        let config = try load()
        if let helpers = config["credHelpers"] as? [String: String] {
            for key in Self.keys(for: host) {
                if let helper = helpers[key] { return try CredentialHelper(name: helper).get(serverURL: key) }
            }
        }
        let auths = config["auths"] as? [String: Any] ?? [:]
        for key in Self.keys(for: host) {
            guard let entry = auths[key] as? [String: Any] else { continue }
            if let token = entry["identitytoken"] as? String, !token.isEmpty {
                return Credential(username: "<token>", secret: "", identityToken: token)
            }
            if let auth = entry["auth"] as? String, let data = Data(base64Encoded: auth),
                let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            {
                return Credential(username: String(text[..<colon]), secret: String(text[text.index(after: colon)...]))
            }
        }
        if let store = config["credsStore"] as? String, !store.isEmpty {
            for key in Self.keys(for: host) {
                if let credential = try? CredentialHelper(name: store).get(serverURL: key) { return credential }
            }
        }
        return nil
    }

    /// Stores `credential` for `host` (in the helper named by `credsStore`, else base64 in `auths`), keeping every other key.
    public func store(_ credential: Credential, for host: String) throws {
        var config = try load()
        let key = Self.keys(for: host)[0]
        if let store = config["credsStore"] as? String, !store.isEmpty {
            try CredentialHelper(name: store).store(serverURL: key, credential: credential)
            return
        }
        var auths = config["auths"] as? [String: Any] ?? [:]
        auths[key] = ["auth": Data("\(credential.username):\(credential.secret)".utf8).base64EncodedString()]
        config["auths"] = auths
        try write(config)
    }

    /// Removes the credential for `host`; returns whether there was one.
    @discardableResult
    public func remove(for host: String) throws -> Bool {
        var config = try load()
        var auths = config["auths"] as? [String: Any] ?? [:]
        var removed = false
        for key in Self.keys(for: host) where auths.removeValue(forKey: key) != nil { removed = true }
        if let store = config["credsStore"] as? String, !store.isEmpty {
            try? CredentialHelper(name: store).erase(serverURL: Self.keys(for: host)[0])
        }
        config["auths"] = auths
        try write(config)
        return removed
    }

    private func write(_ config: [String: Any]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        let temporary = path + ".tmp-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw RegistryError(.transport, "cannot write \(path)")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RegistryError(.transport, "cannot write \(path)")
        }
    }
}

/// A `docker-credential-NAME` helper program (`get`, `store`, `erase` over standard input and output).
struct CredentialHelper {
    let name: String

    func get(serverURL: String) throws -> Credential? {
        let (status, output) = try run("get", input: serverURL)
        guard status == 0 else { return nil }
        guard let object = try JSONSerialization.jsonObject(with: output) as? [String: String],
            let username = object["Username"], let secret = object["Secret"]
        else { throw RegistryError(.unexpectedResponse, "docker-credential-\(name) gave an unreadable answer") }
        return username == "<token>" ? Credential(username: username, secret: "", identityToken: secret) : Credential(username: username, secret: secret)
    }

    func store(serverURL: String, credential: Credential) throws {
        let body = try JSONSerialization.data(withJSONObject: ["ServerURL": serverURL, "Username": credential.username, "Secret": credential.secret])
        let (status, _) = try run("store", input: String(decoding: body, as: UTF8.self))
        guard status == 0 else { throw RegistryError(.transport, "docker-credential-\(name) store failed") }
    }

    func erase(serverURL: String) throws {
        _ = try run("erase", input: serverURL)
    }

    private func run(_ action: String, input: String) throws -> (Int32, Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker-credential-\(name)", action]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
