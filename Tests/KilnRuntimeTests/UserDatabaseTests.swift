import Foundation
import Testing

@testable import KilnRuntime

@Suite struct UserDatabaseTests {
    static let database = UserDatabase(
        passwd: """
            root:x:0:0:root:/root:/bin/sh
            # a comment
            app:x:1000:1000:app:/home/app:/bin/sh
            daemon:x:2:2::/:/usr/sbin/nologin
            broken line
            """,
        group: """
            root:x:0:
            wheel:x:10:app,daemon
            staff:x:50: app
            app:x:1000:
            """)

    static let cases: [(user: String, expected: ResolvedUser)] = [
        ("", ResolvedUser(uid: 0, gid: 0, home: "/root")),  // no USER: uid 0 looked up like any other (moby)
        ("root", ResolvedUser(uid: 0, gid: 0, home: "/root")),
        ("app", ResolvedUser(uid: 1000, gid: 1000, additionalGids: [10, 50], home: "/home/app")),
        ("1000", ResolvedUser(uid: 1000, gid: 1000, additionalGids: [10, 50], home: "/home/app")),
        ("app:staff", ResolvedUser(uid: 1000, gid: 50, home: "/home/app")),
        ("app:77", ResolvedUser(uid: 1000, gid: 77, home: "/home/app")),
        ("1234", ResolvedUser(uid: 1234, gid: 0)),
        ("1234:4321", ResolvedUser(uid: 1234, gid: 4321)),
        ("daemon", ResolvedUser(uid: 2, gid: 2, additionalGids: [10], home: "/")),
        ("2:wheel", ResolvedUser(uid: 2, gid: 10, home: "/")),
    ]

    @Test(arguments: cases)
    func resolves(user: String, expected: ResolvedUser) throws {
        #expect(try Self.database.resolve(user) == expected)
    }

    static let failures: [(user: String, message: String)] = [
        ("ghost", "unable to find user ghost: no matching entries in passwd file"),
        ("app:ghosts", "unable to find group ghosts: no matching entries in group file"),
        ("1000:ghosts", "unable to find group ghosts: no matching entries in group file"),
    ]

    @Test(arguments: failures)
    func rejects(user: String, message: String) {
        #expect {
            try Self.database.resolve(user)
        } throws: { error in
            "\(error)" == message
        }
    }

    /// `--chown` and WORKDIR owners follow BuildKit's file operations: numbers stand for themselves (a lone
    /// uid is also the gid), names are looked up, and an unknown name is root instead of an error.
    static let fileOwners: [(user: String, group: String?, uid: UInt32, gid: UInt32)] = [
        ("app", nil, 1000, 1000),
        ("app", "staff", 1000, 50),
        ("app", "77", 1000, 77),
        ("1000", nil, 1000, 1000),
        ("2", nil, 2, 2),
        ("1234", "4321", 1234, 4321),
        ("ghost", nil, 0, 0),
        ("ghost", "staff", 0, 50),
        ("app", "ghosts", 1000, 1000),
    ]

    @Test(arguments: fileOwners)
    func resolvesFileOwnersAsBuildKit(user: String, group: String?, uid: UInt32, gid: UInt32) {
        let owner = Self.database.fileOwner(user: user, group: group)
        #expect(owner.uid == uid && owner.gid == gid)
    }

    @Test func readsTheDatabasesOfARootWithoutLeavingIt() throws {
        let root = "/dev/shm/kiln-users-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        // An absolute symlink must resolve inside the root, never to the host's /etc/passwd.
        try "app:x:7:8::/home/app:/bin/sh\n".write(toFile: root + "/etc/passwd.real", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: root + "/etc/passwd", withDestinationPath: "/../../etc/passwd.real")
        let database = try UserDatabase(root: root)
        #expect(try database.resolve("app") == ResolvedUser(uid: 7, gid: 8, home: "/home/app"))
        #expect(throws: (any Error).self) { try database.resolve("root") }
    }
}

@Suite struct RootedPathTests {
    static let cases: [(links: [String: String], path: String, expected: String)] = [
        ([:], "/etc/passwd", "/etc/passwd"),
        ([:], "/../../etc", "/etc"),
        (["etc": "/private/etc"], "/etc/passwd", "/private/etc/passwd"),
        (["etc": "../../../../private/etc"], "/etc/passwd", "/private/etc/passwd"),
        (["bin": "usr/bin"], "/bin/sh", "/usr/bin/sh"),
        (["a": "b", "b": "/c"], "/a/x", "/c/x"),
    ]

    @Test(arguments: cases)
    func staysInsideTheRoot(links: [String: String], path: String, expected: String) throws {
        let root = "/dev/shm/kiln-rooted-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, target) in links {
            try FileManager.default.createSymbolicLink(atPath: root + "/" + name, withDestinationPath: target)
        }
        #expect(try RootedPath.resolve(path, in: root) == root + expected)
    }

    @Test func stopsSymlinkLoops() throws {
        let root = "/dev/shm/kiln-rooted-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/loop", withDestinationPath: "loop")
        #expect(throws: RuntimeError.self) { try RootedPath.resolve("/loop/x", in: root) }
    }
}
