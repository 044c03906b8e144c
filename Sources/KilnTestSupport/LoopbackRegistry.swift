import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real CNCF registry (`docker-registry` from Debian) on a free loopback port, with its storage in a
/// temporary directory and, optionally, htpasswd basic auth. Stopped by its pid when released.
public final class LoopbackRegistry {
    public let directory: String
    public let port: Int
    let process: Process
    /// `127.0.0.1:PORT`, the registry host for image references.
    public var host: String { "127.0.0.1:\(port)" }

    /// Whether Debian's `docker-registry` is installed.
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") }

    /// Starts a registry; with `user` and `password`, it requires them (htpasswd basic auth); with `tokenIssuer`,
    /// it requires bearer tokens from that issuer.
    public init(user: String? = nil, password: String? = nil, tokenIssuer: TokenIssuer? = nil) throws {
        directory = "/dev/shm/kiln-registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        port = try Self.freePort()
        var auth = ""
        if let user, let password {
            let htpasswd = Process()
            htpasswd.executableURL = URL(fileURLWithPath: "/usr/bin/htpasswd")
            htpasswd.arguments = ["-Bbc", directory + "/htpasswd", user, password]
            htpasswd.standardError = FileHandle.nullDevice
            try htpasswd.run()
            htpasswd.waitUntilExit()
            auth = "auth:\n  htpasswd:\n    realm: kiln-test\n    path: \(directory)/htpasswd\n"
        }
        if let tokenIssuer {
            auth = "auth:\n  token:\n    realm: \(tokenIssuer.realm)\n    service: \(tokenIssuer.service)\n    issuer: \(tokenIssuer.issuer)\n    rootcertbundle: \(tokenIssuer.certificatePath)\n"
        }
        let config = """
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: \(directory)/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            \(auth)
            """
        try config.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", directory + "/config.yml"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Wait until it answers /v2/ (200, or 401 with auth).
        for _ in 0..<100 {
            if Self.answers(port: port) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw RegistryDidNotStart(port: port)
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    public struct RegistryDidNotStart: Error { public var port: Int }

    /// A port the kernel says is free right now.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on the port.
    static func answers(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
