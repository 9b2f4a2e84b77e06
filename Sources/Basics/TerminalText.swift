/// `text` as a terminal may show it: host output can carry escape sequences that recolour,
/// retitle or rewrite the screen (or hide a line), so they are removed with every other control
/// character and the bidirectional overrides that reorder what is shown. Tabs and line breaks
/// become spaces, unless `keepNewlines` keeps line breaks. JSON and JUnit output escape instead.
public func terminalSafe(_ text: String, keepNewlines: Bool = false) -> String {
    var result = String.UnicodeScalarView()
    var scalars = text.unicodeScalars.makeIterator()
    while let scalar = scalars.next() {
        switch scalar.value {
        case 0x1B:
            if let introducer = scalars.next() { skipSequence(introducedBy: introducer, &scalars) }
        case 0x9B, 0x9D, 0x90, 0x98, 0x9E, 0x9F:
            // The 8-bit forms of CSI, OSC, DCS, SOS, PM and APC.
            skipSequence(introducedBy: Unicode.Scalar(UInt8(scalar.value - 0x40)), &scalars)
        case 0x0A where keepNewlines:
            result.append(scalar)
        case 0x09, 0x0A, 0x0D:
            result.append(" ")
        case 0x00..<0x20, 0x7F..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
            continue
        default:
            result.append(scalar)
        }
    }
    return String(result)
}

/// Consumes the rest of an escape sequence whose character after ESC is `introducer`: a CSI
/// sequence (`ESC [ … final`), a string sequence such as OSC (`ESC ] … BEL` or `ESC ] … ESC \`),
/// or nothing more.
private func skipSequence(introducedBy introducer: Unicode.Scalar, _ scalars: inout String.UnicodeScalarView.Iterator) {
    switch introducer {
    case "[":
        while let next = scalars.next(), !(0x40...0x7E).contains(next.value) {}
    case "]", "P", "X", "^", "_":
        var previousWasEscape = false
        while let next = scalars.next() {
            if next.value == 0x07 || next.value == 0x9C || (previousWasEscape && next == "\\") { return }
            previousWasEscape = next.value == 0x1B
        }
    default:
        return
    }
}
