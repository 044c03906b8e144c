import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small OAuth2-style token service for registry tests: it checks basic credentials and answers with a real
/// JWT (ES256, with the signing certificate in `x5c`) granting the requested repository actions, the way
/// Docker Hub's auth service does. The registry trusts it through `rootcertbundle`.
public final class TokenIssuer: @unchecked Sendable {
    public let port: Int
    public let service = "kiln-test-registry"
    public let issuer = "kiln-test-issuer"
    /// PEM of the certificate registries must trust.
    public let certificatePath: String
    public var realm: String { "http://127.0.0.1:\(port)/token" }
    /// How many tokens it handed out.
    public var issuedCount: Int { lock.withLock { issued } }

    private let key: P256.Signing.PrivateKey
    private let certificateDER: Data
    private let users: [String: String]
    private let group: MultiThreadedEventLoopGroup
    private var channel: (any Channel)?
    private let lock = NSLock()
    private var issued = 0

    /// Starts the service on a free loopback port, accepting `users` (name → password).
    public init(users: [String: String], directory: String) throws {
        self.users = users
        let keyPath = directory + "/issuer-key.pem"
        certificatePath = directory + "/issuer-cert.pem"
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath,
            "-out", certificatePath, "-days", "2", "-subj", "/CN=kiln-test-issuer",
        ]
        openssl.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try openssl.run()
        openssl.waitUntilExit()
        key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: keyPath, encoding: .utf8))
        let pem = try String(contentsOfFile: certificatePath, encoding: .utf8)
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: base64) else { throw IssuerError.badCertificate }
        certificateDER = der

        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = IssuerBox()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(TokenHandler(issuerProvider: { box.issuer }))
                }
            }
        let bound = try bootstrap.bind(host: "127.0.0.1", port: 0).wait()
        port = bound.localAddress?.port ?? 0
        channel = bound
        box.issuer = self
    }

    deinit {
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
    }

    enum IssuerError: Error { case badCertificate }

    /// Answers `GET /token?service=…&scope=…` with basic credentials.
    func respond(to head: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        guard let authorization = head.headers.first(name: "Authorization"), authorization.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6))).flatMap({ String(data: $0, encoding: .utf8) }),
            let colon = decoded.firstIndex(of: ":"),
            users[String(decoded[..<colon])] == String(decoded[decoded.index(after: colon)...])
        else { return (.unauthorized, #"{"details":"incorrect username or password"}"#) }
        let subject = String(decoded[..<decoded.firstIndex(of: ":")!])
        let components = URLComponents(string: head.uri)
        let scopes = components?.queryItems?.filter { $0.name == "scope" }.compactMap(\.value) ?? []
        var access: [[String: Any]] = []
        for scope in scopes.flatMap({ $0.split(separator: " ") }) {
            let parts = scope.split(separator: ":")
            guard parts.count >= 3 else { continue }
            access.append([
                "type": String(parts[0]), "name": parts[1..<(parts.count - 1)].joined(separator: ":"),
                "actions": parts[parts.count - 1].split(separator: ",").map(String.init),
            ])
        }
        let now = Int(Date().timeIntervalSince1970)
        let header: [String: Any] = ["alg": "ES256", "typ": "JWT", "x5c": [certificateDER.base64EncodedString()]]
        let claims: [String: Any] = [
            "iss": issuer, "sub": subject, "aud": service, "exp": now + 300, "nbf": now - 10, "iat": now,
            "jti": UUID().uuidString, "access": access,
        ]
        guard let token = try? sign(header: header, claims: claims) else { return (.internalServerError, "{}") }
        lock.withLock { issued += 1 }
        return (.ok, #"{"token":"\#(token)","access_token":"\#(token)","expires_in":300}"#)
    }

    private func sign(header: [String: Any], claims: [String: Any]) throws -> String {
        func encode(_ object: [String: Any]) throws -> String {
            Self.base64URL(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        let input = try encode(header) + "." + encode(claims)
        let signature = try key.signature(for: Data(input.utf8))
        return input + "." + Self.base64URL(signature.rawRepresentation)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Lets the connection handlers find the issuer without keeping it alive.
private final class IssuerBox: @unchecked Sendable {
    weak var issuer: TokenIssuer?
}

/// The HTTP side of ``TokenIssuer``.
private final class TokenHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let issuerProvider: () -> TokenIssuer?
    private var head: HTTPRequestHead?

    init(issuerProvider: @escaping () -> TokenIssuer?) {
        self.issuerProvider = issuerProvider
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
        case .body:
            break
        case .end:
            guard let head, let issuer = issuerProvider() else { return }
            let (status, body) = issuer.respond(to: head)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }
}
