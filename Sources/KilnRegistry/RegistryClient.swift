import AsyncHTTPClient
import Foundation
import KilnOCI
import NIOCore
import NIOHTTP1

/// A client of the OCI distribution API: it authenticates (anonymous, basic, bearer tokens), retries what
/// can be retried, and turns registry errors into messages users understand.
public final class RegistryClient: Sendable {
    public let configuration: RegistryConfiguration
    let http: HTTPClient
    let tokens = TokenCache()

    /// `text` (an image reference as the user wrote it) with a short-name alias from registries.conf applied.
    public func resolvingAlias(_ text: String) -> String {
        configuration.registries?.resolvingAlias(text) ?? text
    }

    public init(configuration: RegistryConfiguration = RegistryConfiguration()) {
        self.configuration = configuration
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        httpConfiguration.timeout = .init(connect: .seconds(30), read: .seconds(300))
        httpConfiguration.decompression = .disabled
        // Connection failures come back at once and go through kiln's own bounded retries; AHC's default
        // would retry a host that cannot be reached (offline, DNS failure) until the request deadline.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    }

    /// Closes connections; call once done.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// Runs `body` with a client that is shut down afterwards, whether `body` returns or throws.
    public static func withClient<T>(
        configuration: RegistryConfiguration = RegistryConfiguration(), _ body: (RegistryClient) async throws -> T
    ) async throws -> T {
        let client = RegistryClient(configuration: configuration)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A request body that can be produced again for a retry.
    enum RequestBody: Sendable {
        case bytes([UInt8])
        case file(path: String, offset: Int64, length: Int64)
    }

    /// Sends a request to `domain`, authenticating for `scope` (`repository:NAME:pull` …) on a 401 and retrying
    /// connection failures, 5xx and 429 with exponential back-off. The caller consumes the returned body.
    func send(
        _ method: HTTPMethod, _ url: String, domain: String, scope: String, headers: HTTPHeaders = [:],
        body: RequestBody? = nil, timeout: TimeAmount = .seconds(600)
    ) async throws -> HTTPClientResponse {
        var attempt = 0
        var authenticated = false
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers = headers
            request.headers.replaceOrAdd(name: "User-Agent", value: "kiln/0.1")
            if let authorization = await tokens.authorization(host: domain, scope: scope) {
                request.headers.replaceOrAdd(name: "Authorization", value: authorization)
            }
            switch body {
            case .bytes(let bytes)?:
                request.body = .bytes(ByteBuffer(bytes: bytes))
            case .file(let path, let offset, let length)?:
                request.body = .stream(FileChunks(path: path, offset: offset, length: length), length: .known(length))
            case nil:
                break
            }
            attempt += 1
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: timeout)
            } catch {
                // A host name that does not resolve will not resolve a second later either (NIO reports it
                // as `SocketAddressError.unknown` wrapped in its connection error, seen only in the text).
                let unknownHost = "\(error)".contains("SocketAddressError.UnknownHost")
                // Nothing listens there: fail at once, as docker does, rather than after the whole backoff.
                if "\(error)".contains("Connection refused") {
                    throw RegistryError(.unreachable, "\(method) \(url): connection refused (no registry listens at \(domain))")
                }
                guard attempt < configuration.maximumAttempts, !unknownHost, !(error is CancellationError) else {
                    throw RegistryError(.transport, "\(method) \(url) failed after \(attempt) attempts", cause: error)
                }
                try await backoff(attempt: attempt, retryAfter: nil)
                continue
            }
            if response.status == .unauthorized && !authenticated {
                let challenges = response.headers["WWW-Authenticate"].flatMap(AuthChallenge.parse)
                _ = try? await response.body.collect(upTo: 1 << 20)
                guard !challenges.isEmpty else { return response }
                await tokens.invalidate(host: domain, scope: scope)
                try await authenticate(challenges, domain: domain, scope: scope)
                authenticated = true
                attempt -= 1
                continue
            }
            let status = response.status.code
            if (status >= 500 || status == 429) && attempt < configuration.maximumAttempts {
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Double.init)
                _ = try? await response.body.collect(upTo: 1 << 20)
                try await backoff(attempt: attempt, retryAfter: retryAfter)
                continue
            }
            return response
        }
    }

    /// Runs `transfer` for every blob, at most ``RegistryConfiguration/maximumConcurrentTransfers`` at a time;
    /// the first failure cancels the rest.
    func forEachBlob(_ blobs: [Descriptor], _ transfer: @escaping @Sendable (Descriptor) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = blobs.makeIterator()
            for _ in 0..<max(1, configuration.maximumConcurrentTransfers) {
                guard let blob = pending.next() else { break }
                group.addTask { try await transfer(blob) }
            }
            while try await group.next() != nil {
                if let blob = pending.next() { group.addTask { try await transfer(blob) } }
            }
        }
    }

    /// Runs a whole exchange again when the connection broke in the middle of it (a reset, a truncated body),
    /// but not when the registry answered with a definite refusal.
    func withRetries<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let error as RegistryError where error.code != .transport && error.code != .unexpectedResponse {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attempt < configuration.maximumAttempts else { throw error }
                try await backoff(attempt: attempt, retryAfter: nil)
            }
        }
    }

    private func backoff(attempt: Int, retryAfter: Double?) async throws {
        if let retryAfter {
            try await Task.sleep(for: .milliseconds(Int(min(retryAfter, 60) * 1000)))
            return
        }
        let factor = 1 << min(attempt - 1, 6)
        try await Task.sleep(for: configuration.initialBackoff * factor)
    }

    /// Answers a challenge: basic credentials, or a bearer token from the realm (GET with basic credentials,
    /// or the OAuth2 POST form when the credential is an identity token).
    private func authenticate(_ challenges: [AuthChallenge], domain: String, scope: String) async throws {
        let credential = try configuration.dockerConfig.credential(for: domain)
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }), let realm = bearer.parameters["realm"] {
            var query: [(String, String)] = []
            if let service = bearer.parameters["service"] { query.append(("service", service)) }
            for item in scope.split(separator: " ") { query.append(("scope", String(item))) }
            var request: HTTPClientRequest
            if let identityToken = credential?.identityToken {
                request = HTTPClientRequest(url: realm)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                let form = ([("grant_type", "refresh_token"), ("refresh_token", identityToken), ("client_id", "kiln")] + query)
                    .map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
                request.body = .bytes(ByteBuffer(string: form))
            } else {
                let separator = realm.contains("?") ? "&" : "?"
                request = HTTPClientRequest(url: realm + separator + query.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&"))
                if let credential {
                    let basic = Data("\(credential.username):\(credential.secret)".utf8).base64EncodedString()
                    request.headers.add(name: "Authorization", value: "Basic \(basic)")
                }
            }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: .seconds(60))
            } catch {
                throw RegistryError(.transport, "cannot reach the token service \(realm)", cause: error)
            }
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw RegistryError(.unauthorized, "unauthorized: the token service \(realm) refused \(credential == nil ? "anonymous" : "the") credentials (\(response.status.code))")
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                let token = (object["token"] as? String) ?? (object["access_token"] as? String), !token.isEmpty
            else { throw RegistryError(.unexpectedResponse, "the token service \(realm) answered without a token") }
            let lifetime = (object["expires_in"] as? Double) ?? (object["expires_in"] as? Int).map(Double.init) ?? 60
            await tokens.store("Bearer \(token)", host: domain, scope: scope, lifetime: lifetime)
            return
        }
        if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credential, credential.identityToken == nil else {
                throw RegistryError(.unauthorized, "unauthorized: \(domain) needs credentials (kiln login \(domain))")
            }
            let basic = Data("\(credential.username):\(credential.secret)".utf8).base64EncodedString()
            await tokens.store("Basic \(basic)", host: domain, scope: "*", lifetime: 3600 * 24)
        }
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The distribution API error text of a response, if it has one (`{"errors":[{"code":…,"message":…}]}`).
    static func errorSummary(_ body: ByteBuffer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let errors = object["errors"] as? [[String: Any]], !errors.isEmpty
        else { return nil }
        return errors.map { "\(($0["code"] as? String ?? "").lowercased().replacingOccurrences(of: "_", with: " ")): \($0["message"] as? String ?? "")" }
            .joined(separator: "; ")
    }
}

/// A file section read as a sequence of buffers, for streaming uploads.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let offset: Int64
    let length: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        var remaining: Int64

        mutating func next() async throws -> ByteBuffer? {
            guard remaining > 0, let handle else { return nil }
            let data = try handle.read(upToCount: Int(Swift.min(remaining, 1 << 20))) ?? Data()
            guard !data.isEmpty else { throw RegistryError(.transport, "the blob file ended early") }
            remaining -= Int64(data.count)
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let handle = FileHandle(forReadingAtPath: path)
        try? handle?.seek(toOffset: UInt64(offset))
        return AsyncIterator(handle: handle, remaining: length)
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self.init(buffer.readableBytesView)
    }
}
