import Foundation
import KilnOCI

/// `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname` for a container, written outside its root
/// filesystem and bind-mounted read-only, so they never become part of a layer.
public enum HostFiles {
    /// The contents of `/etc/hosts`: loopback names, the container's hostname, and `extraHosts`.
    public static func hosts(hostname: String, extraHosts: [ProcessRequest.HostEntry]) -> String {
        var lines = ["127.0.0.1\tlocalhost \(hostname)", "::1\tlocalhost ip6-localhost ip6-loopback"]
        lines += extraHosts.map { "\($0.address)\t\($0.name)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The contents of `/etc/resolv.conf` derived from the host's. In a network namespace of its own a
    /// container cannot reach the host's loopback resolvers, so those are dropped, and docker's public
    /// fallback servers are used when nothing is left.
    /// With `nameserver` (a forwarder in the container's network, such as slirp4netns's), it replaces the host's.
    public static func resolvConf(host: String, network: NetworkAccess, nameserver: String? = nil) -> String {
        if network == .host { return host }
        var lines: [String] = nameserver.map { ["nameserver \($0)"] } ?? []
        var hasNameserver = nameserver != nil
        for line in host.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.first == "nameserver", fields.count > 1 {
                let address = String(fields[1])
                if nameserver != nil || address.hasPrefix("127.") || address == "::1" { continue }
                hasNameserver = true
            }
            lines.append(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        if !hasNameserver { lines += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"] }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the three files into `directory` and returns their read-only bind mounts.
    public static func write(
        to directory: String, request: ProcessRequest, hostResolvConf: String = "/etc/resolv.conf", nameserver: String? = nil
    ) throws -> [RuntimeSpec.Mount] {
        let host = (try? String(contentsOfFile: hostResolvConf, encoding: .utf8)) ?? ""
        let hostname = request.network == .host ? ProcessInfo.processInfo.hostName : request.hostname
        let files = [
            ("hosts", hosts(hostname: hostname, extraHosts: request.extraHosts)),
            ("resolv.conf", resolvConf(host: host, network: request.network, nameserver: nameserver)),
            ("hostname", hostname + "\n"),
        ]
        return try files.map { name, contents in
            let path = directory + "/" + name
            guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o644]) else {
                throw RuntimeError("cannot write \(path)")
            }
            return RuntimeSpec.Mount(destination: "/etc/" + name, type: "bind", source: path, options: ["rbind", "ro"])
        }
    }
}
