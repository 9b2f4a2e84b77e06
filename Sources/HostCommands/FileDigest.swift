import Remote

/// A host file's size and sha256 as the host's own tools read them: the one reading for backup's
/// download (the roles file in backup.dir) and install-host's check of what it installed.
public struct FileDigest: Sendable, Equatable {
    public var name: String
    public var size: Int64
    public var sha256: String

    public init(name: String, size: Int64, sha256: String) {
        self.name = name
        self.size = size
        self.sha256 = sha256
    }

    /// Each of `names` in `directory` (a shell word, so it may expand; home by default), in order,
    /// in one round trip: `SIZE SHA256` per file. Each file is read through stdin, so a name with
    /// a newline or a backslash cannot shift the lines; one that cannot be read fails the probe.
    public static func probe(_ names: [String], in directory: ShellScript = "\"$HOME\"", timeout: Duration = .seconds(60)) -> HostProbe<[FileDigest]> {
        let script: ShellScript = "cd \(directory) && for f in \(names); do s=$(wc -c < \"$f\") && h=$(sha256sum < \"$f\") || exit 1; echo $s \"${h%% *}\"; done"
        return HostProbe("size and sha256", RemoteCommand(script, timeout: timeout)) { result in
            guard result.succeeded else { throw UnreadableOutput("cannot read \(names.joined(separator: ", ")) in \(directory.text)") }
            let lines = result.stdoutText.split(separator: "\n")
            guard lines.count == names.count else { throw UnreadableOutput("\(lines.count) lines for \(names.count) files") }
            return try zip(names, lines).map { name, line in
                let fields = line.split(separator: " ")
                guard fields.count == 2, let size = Int64(fields[0]), fields[1].count == 64 else { throw UnreadableOutput("no size and sha256 for \(name)") }
                return FileDigest(name: name, size: size, sha256: String(fields[1]))
            }
        }
    }
}
