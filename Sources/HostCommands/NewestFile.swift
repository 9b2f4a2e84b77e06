/// The newest regular file matching some glob patterns, as the host's `stat` sees it: the one
/// reading of it for status's newest report and scheduled runs' newest output.
public struct NewestFile: Sendable, Equatable {
    /// Seconds since 1970.
    public var modified: Int64
    public var size: Int64
    public var path: String

    /// One line (`parse` reads it), or none when no regular file matches. Each pattern is quoted
    /// but for its glob characters.
    public static func script(_ patterns: [String]) -> ShellScript {
        let globs = patterns.reduce(ShellScript("")) { words, pattern in "\(words) \(glob: pattern)" }
        return "for f in\(globs); do [ -f \"$f\" ] && stat -c '%Y %s %n' -- \"$f\"; done 2>/dev/null | sort -n | tail -n 1"
    }

    /// The file in `script`'s line; nil for no line or one it cannot read.
    public static func parse(_ line: String?) -> NewestFile? {
        guard let fields = line?.split(separator: " ", maxSplits: 2).map(String.init), fields.count == 3,
              let modified = Int64(fields[0]), let size = Int64(fields[1]) else { return nil }
        return NewestFile(modified: modified, size: size, path: fields[2])
    }
}
