/// A value from a file or a flag as a message shows it: in single quotes, cut to `limit`
/// characters, with control and format characters as `\u{…}` escapes, so a hostile file can
/// neither drive the operator's terminal (escape sequences) nor bury the message under megabytes.
func shown(_ text: some StringProtocol, limit: Int = 40) -> String {
    var result = "'"
    for (index, scalar) in text.unicodeScalars.enumerated() {
        guard index < limit else { return result + "…'" }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator:
            result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
        default:
            result.unicodeScalars.append(scalar)
        }
    }
    return result + "'"
}
