/// Text helpers that reproduce Go's standard library where the Dockerfile format depends on it.

/// Go's `unicode.IsSpace`: the Unicode White_Space property.
@inline(__always)
func isGoSpace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x20, 0x85, 0xA0: return true
    case 0..<0x80: return false
    default: return scalar.properties.isWhitespace
    }
}

/// Go's `unicode.IsLetter` (general category L).
func isGoLetter(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.isASCII {
        let v = scalar.value
        return (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
    }
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
}

/// Go's `unicode.IsDigit` (general category Nd).
func isGoDigit(_ scalar: Unicode.Scalar) -> Bool {
    if scalar.isASCII { return scalar.value >= 0x30 && scalar.value <= 0x39 }
    return scalar.properties.generalCategory == .decimalNumber
}

/// Go's `strconv.Quote`.
func goQuoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\u{07}": result += "\\a"
        case "\u{08}": result += "\\b"
        case "\u{0C}": result += "\\f"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "\u{0B}": result += "\\v"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\x" + hex(scalar.value, width: 2)
            } else if scalar.value == 0xFFFD {
                result.unicodeScalars.append(scalar)
            } else if isGoPrintable(scalar) {
                result.unicodeScalars.append(scalar)
            } else if scalar.value < 0x10000 {
                result += "\\u" + hex(scalar.value, width: 4)
            } else {
                result += "\\U" + hex(scalar.value, width: 8)
            }
        }
    }
    return result + "\""
}

private func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space.
private func isGoPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
        .nonspacingMark, .spacingMark, .enclosingMark,
        .decimalNumber, .letterNumber, .otherNumber,
        .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
        .initialPunctuation, .finalPunctuation, .otherPunctuation,
        .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
        return true
    default:
        return false
    }
}

extension String {
    /// Go's `strings.TrimSpace`.
    func trimmingGoSpace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isGoSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isGoSpace($0) })!
        return String(scalars[first...last])
    }

    /// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`.
    func trimmingGoSpacePrefix() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isGoSpace($0) }) else { return "" }
        return String(scalars[first...])
    }

    /// Splits on runs of `[\t\v\f\r ]`, as BuildKit's `reWhitespace.Split(s, limit)` (limit < 0: no limit).
    func splitOnDockerfileWhitespace(limit: Int = -1) -> [String] {
        var parts: [String] = []
        var current = String.UnicodeScalarView()
        var scalars = unicodeScalars[...]
        while let scalar = scalars.first {
            if limit > 0 && parts.count == limit - 1 {
                current.append(contentsOf: scalars)
                scalars = scalars[scalars.endIndex...]
                break
            }
            if isDockerfileBlank(scalar) {
                parts.append(String(current))
                current = String.UnicodeScalarView()
                scalars = scalars.drop(while: isDockerfileBlank)
                continue
            }
            current.append(scalar)
            scalars = scalars.dropFirst()
        }
        parts.append(String(current))
        return parts
    }
}

/// The characters of BuildKit's `reWhitespace` (`[\t\v\f\r ]`).
@inline(__always)
func isDockerfileBlank(_ scalar: Unicode.Scalar) -> Bool {
    scalar == " " || scalar == "\t" || scalar == "\u{0B}" || scalar == "\u{0C}" || scalar == "\r"
}
