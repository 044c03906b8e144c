import Foundation

/// The user and groups a process runs as.
public struct ResolvedUser: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var additionalGids: [UInt32]
    /// The home directory from `/etc/passwd` (`/` when unknown).
    public var home: String

    public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32] = [], home: String = "/") {
        self.uid = uid
        self.gid = gid
        self.additionalGids = additionalGids
        self.home = home
    }

    public static let root = ResolvedUser(uid: 0, gid: 0)
}

/// `/etc/passwd` and `/etc/group` of an image, and the `USER` resolution docker applies to them
/// (`moby/sys/user.GetExecUser`): `name`, `uid`, `name:group`, `uid:gid`; a numeric user that is not in
/// passwd runs with gid 0; supplementary groups only when no group is given.
public struct UserDatabase: Sendable {
    public struct Account: Sendable, Hashable {
        public var name: String
        public var uid: UInt32
        public var gid: UInt32
        public var home: String
    }

    public struct Group: Sendable, Hashable {
        public var name: String
        public var gid: UInt32
        public var members: [String]
    }

    public var accounts: [Account]
    public var groups: [Group]

    public init(passwd: String, group: String) {
        accounts = Self.records(passwd).compactMap { fields in
            guard fields.count >= 4, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { return nil }
            return Account(name: fields[0], uid: uid, gid: gid, home: fields.count > 5 && !fields[5].isEmpty ? fields[5] : "/")
        }
        groups = Self.records(group).compactMap { fields in
            guard fields.count >= 3, let gid = UInt32(fields[2]) else { return nil }
            let members = fields.count > 3 ? fields[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : []
            return Group(name: fields[0], gid: gid, members: members.filter { !$0.isEmpty })
        }
    }

    /// Reads the databases of the root filesystem at `root` (missing files count as empty).
    public init(root: String) throws {
        func read(_ path: String) throws -> String {
            let host = try RootedPath.resolve(path, in: root)
            guard let data = FileManager.default.contents(atPath: host) else { return "" }
            return String(decoding: data, as: UTF8.self)
        }
        self.init(passwd: try read("/etc/passwd"), group: try read("/etc/group"))
    }

    /// Resolves a `USER` value.
    /// No user means uid 0, looked up like any other (its home, usually `/root`, and its groups).
    public func resolve(_ user: String) throws -> ResolvedUser {
        if user.isEmpty { return try resolve("0") }
        let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userArgument = parts[0]
        let groupArgument = parts.count > 1 ? parts[1] : ""
        var resolved = ResolvedUser.root
        var matchedName: String?
        if let account = accounts.first(where: { $0.name == userArgument || String($0.uid) == userArgument }) {
            resolved = ResolvedUser(uid: account.uid, gid: account.gid, home: account.home)
            matchedName = account.name
        } else if let uid = UInt32(userArgument) {
            resolved.uid = uid
        } else if !userArgument.isEmpty {
            throw RuntimeError("unable to find user \(userArgument): no matching entries in passwd file")
        }
        if !groupArgument.isEmpty {
            if let group = groups.first(where: { $0.name == groupArgument || String($0.gid) == groupArgument }) {
                resolved.gid = group.gid
            } else if let gid = UInt32(groupArgument) {
                resolved.gid = gid
            } else {
                throw RuntimeError("unable to find group \(groupArgument): no matching entries in group file")
            }
        } else if let matchedName {
            resolved.additionalGids = groups.filter { $0.members.contains(matchedName) }.map(\.gid)
        }
        return resolved
    }

    /// The owner of what COPY/ADD `--chown` and WORKDIR create, as BuildKit's file operations resolve it: a
    /// number is the uid and the gid; a name found in `/etc/passwd` gives its uid and primary group, an unknown
    /// name 0:0 (BuildKit does not fail); a group, by number or by name, replaces the gid (an unknown name
    /// leaves it).
    public func fileOwner(user: String, group: String?) -> (uid: UInt32, gid: UInt32) {
        var owner: (uid: UInt32, gid: UInt32) = (0, 0)
        if let uid = UInt32(user) {
            owner = (uid, uid)
        } else if let account = accounts.first(where: { $0.name == user }) {
            owner = (account.uid, account.gid)
        }
        if let group {
            if let gid = UInt32(group) {
                owner.gid = gid
            } else if let match = groups.first(where: { $0.name == group }) {
                owner.gid = match.gid
            }
        }
        return owner
    }

    private static func records(_ text: String) -> [[String]] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return nil }
            return trimmed.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
    }
}
