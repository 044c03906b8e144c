import Foundation
import Testing

@testable import KilnRuntime

@Suite struct SSHAgentProxyTests {
    /// An "agent" that answers every message with the same bytes prefixed by `agent:`.
    final class EchoAgent: @unchecked Sendable {
        let listener: UnixListener

        init(path: String) throws {
            listener = try UnixListener(path: path)
            let descriptor = listener.descriptor
            Thread {
                while true {
                    let client = accept(descriptor, nil, nil)
                    guard client >= 0 else { return }
                    var buffer = [UInt8](repeating: 0, count: 1024)
                    let count = read(client, &buffer, buffer.count)
                    if count > 0 { _ = write(client, Array("agent:".utf8) + buffer[0..<count], 6 + count) }
                    close(client)
                }
            }.start()
        }
    }

    @Test func forwardsConnectionsWithTheRequestedOwnerAndMode() throws {
        let directory = "/dev/shm/kiln-ssh-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let agent = try EchoAgent(path: directory + "/agent.sock")
        defer { agent.listener.close() }
        let proxy = try SSHAgentProxy(path: directory + "/proxy.sock", agent: directory + "/agent.sock", uid: 1234, gid: 5678, mode: 0o660)
        defer { proxy.stop() }
        var info = stat()
        #expect(stat(proxy.path, &info) == 0)
        #expect(info.st_uid == 1234 && info.st_gid == 5678 && info.st_mode & 0o777 == 0o660)
        for message in ["ping", "second connection"] {
            let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(client) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in proxy.path.utf8.enumerated() { buffer[index] = byte }
            }
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
            }
            #expect(connected)
            _ = write(client, message, message.utf8.count)
            var reply: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1024)
            while true {
                let count = read(client, &buffer, buffer.count)
                if count <= 0 { break }
                reply += buffer[0..<count]
            }
            #expect(String(decoding: reply, as: UTF8.self) == "agent:" + message)
        }
        proxy.stop()
        #expect(!FileManager.default.fileExists(atPath: proxy.path))
    }
}
