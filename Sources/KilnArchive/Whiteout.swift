/// OCI whiteout names: `.wh.NAME` deletes NAME from lower layers, `.wh..wh..opq` hides a directory's lower contents.
///
/// Source: https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts
public enum Whiteout {
    public static let prefix = ".wh."
    public static let opaqueMarker = ".wh..wh..opq"

    /// What an archive entry name means for whiteout handling.
    public enum Meaning: Equatable {
        /// An ordinary file.
        case none
        /// Delete the named sibling.
        case remove(String)
        /// Hide everything lower layers put in the parent directory.
        case opaque
    }

    /// Classifies the last path component `name`.
    public static func meaning(of name: String) -> Meaning {
        if name == opaqueMarker { return .opaque }
        if name.hasPrefix(prefix) { return .remove(String(name.dropFirst(prefix.count))) }
        return .none
    }
}
