/// PAX extended header records (`"%d %s=%s\n"`, the length counting the whole record).
enum PAXRecords {
    /// Encodes records sorted by key, so the same entry always gives the same bytes.
    static func encode(_ records: [String: [UInt8]]) -> [UInt8] {
        var output: [UInt8] = []
        for key in records.keys.sorted() {
            let body = Array(" \(key)=".utf8) + records[key]! + [0x0A]
            var length = body.count + 1
            while String(length).utf8.count + body.count != length { length = String(length).utf8.count + body.count }
            output += Array(String(length).utf8) + body
        }
        return output
    }

    /// Decodes records; a key with an empty value deletes it (PAX semantics), later records win.
    static func decode(_ data: [UInt8]) -> [String: [UInt8]]? {
        var records: [String: [UInt8]] = [:]
        var index = 0
        while index < data.count {
            guard let space = data[index...].firstIndex(of: 0x20), space > index,
                let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > space - index + 1,
                index + length <= data.count, data[index + length - 1] == 0x0A
            else { return nil }
            let record = data[(space + 1)..<(index + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
            records[key] = Array(record[(equals + 1)...])
            index += length
        }
        return records
    }
}
