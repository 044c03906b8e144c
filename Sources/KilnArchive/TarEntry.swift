/// One member of a tar archive: its metadata; the contents stream separately.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, hardlink, characterDevice, blockDevice, fifo
    }

    /// The path inside the archive, relative, without a leading `./` or `/` (directories without a trailing `/`).
    public var path: String
    public var kind: Kind
    /// The target of a symlink or hardlink.
    public var linkTarget: String
    /// Permission bits with setuid, setgid and sticky (`0o7777` mask).
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var userName: String
    public var groupName: String
    /// The contents size of a regular file (0 for every other kind).
    public var size: Int64
    public var modificationTime: TarTime
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes (`security.capability`, `user.*`, …), written as `SCHILY.xattr.*` PAX records.
    public var extendedAttributes: [String: [UInt8]]

    public init(
        path: String, kind: Kind, linkTarget: String = "", mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
        userName: String = "", groupName: String = "", size: Int64 = 0, modificationTime: TarTime = TarTime(seconds: 0),
        deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0, extendedAttributes: [String: [UInt8]] = [:]
    ) {
        self.path = path
        self.kind = kind
        self.linkTarget = linkTarget
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.userName = userName
        self.groupName = groupName
        self.size = size
        self.modificationTime = modificationTime
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.extendedAttributes = extendedAttributes
    }
}

/// A timestamp with nanosecond precision.
public struct TarTime: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: TarTime, rhs: TarTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}
