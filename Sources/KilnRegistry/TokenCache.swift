import Foundation

/// Authorization header values per registry host and scope, with their expiry.
actor TokenCache {
    private struct Entry {
        var value: String
        var expires: Date
    }

    private var entries: [String: Entry] = [:]

    func authorization(host: String, scope: String) -> String? {
        for key in ["\(host)|\(scope)", "\(host)|*"] {
            if let entry = entries[key], entry.expires > Date() { return entry.value }
        }
        return nil
    }

    func store(_ value: String, host: String, scope: String, lifetime: TimeInterval) {
        entries["\(host)|\(scope)"] = Entry(value: value, expires: Date().addingTimeInterval(max(lifetime - 10, 5)))
    }

    func invalidate(host: String, scope: String) {
        entries.removeValue(forKey: "\(host)|\(scope)")
        entries.removeValue(forKey: "\(host)|*")
    }
}
