import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket that forwards every connection to an SSH agent's socket, so a RUN step sees an agent
/// socket with the owner and mode its mount asks for (BuildKit's `uid`, `gid`, `mode` on `type=ssh`)
/// without kiln touching the user's own socket. Connections are forwarded on threads until either
/// side closes; ``stop()`` closes the listener.
final class SSHAgentProxy: @unchecked Sendable {
    let path: String
    private let agent: String
    private let listener: Int32
    private let lock = NSLock()
    private var stopped = false

    /// Listens at `path` (owned by `uid`:`gid` with `mode`) and forwards to the agent socket `agent`.
    init(path: String, agent: String, uid: UInt32, gid: UInt32, mode: UInt32) throws {
        self.path = path
        self.agent = agent
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw RuntimeError.system("socket for", path) }
        var address = try Self.address(path)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
        guard bound, listen(listener, 16) == 0, chown(path, uid, gid) == 0, chmod(path, mode_t(mode)) == 0 else {
            let error = RuntimeError.system("listen on", path)
            close(listener)
            throw error
        }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func stop() {
        let wasRunning = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard wasRunning else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return  // the listener was closed
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let upstream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard upstream >= 0, var address = try? Self.address(agent) else {
                close(client)
                if upstream >= 0 { close(upstream) }
                continue
            }
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
            }
            guard connected else {
                close(client)
                close(upstream)
                continue
            }
            Thread { Self.pump(client, upstream) }.start()
        }
    }

    /// Copies bytes both ways between two sockets until one side closes.
    private static func pump(_ first: Int32, _ second: Int32) {
        defer {
            close(first)
            close(second)
        }
        var descriptors = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            guard poll(&descriptors, 2, -1) > 0 else {
                if errno == EINTR { continue }
                return
            }
            for index in 0..<2 where descriptors[index].revents != 0 {
                let from = descriptors[index].fd, to = descriptors[1 - index].fd
                let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                guard count > 0 else { return }
                var written = 0
                while written < count {
                    let result = buffer[written..<count].withUnsafeBytes { write(to, $0.baseAddress, $0.count) }
                    guard result > 0 else { return }
                    written += result
                }
            }
        }
    }

    private static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { throw RuntimeError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        return address
    }
}
