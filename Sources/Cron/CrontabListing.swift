import Basics

/// The user's crontab as `crontab -l` reports it: the one reading every caller uses (verify's
/// cron-scheduled, the cron commands, recover), so "no crontab" means the same everywhere and a
/// failed listing is never taken for an empty crontab.
public enum CrontabListing: Equatable, Sendable {
    /// Its lines.
    case listed([String])
    /// The user has no crontab: `crontab -l` exits 1 saying "no crontab for USER".
    case noCrontab
    /// Anything else (status 1 for another reason included): the status and what crontab said.
    case failed(status: Int32, message: String)

    /// What Debian's cron and cronie both print (untranslated, in any locale) for a user without
    /// a crontab, with status 1.
    public static let noCrontabMessage = "no crontab for"

    /// The command, on its own: stdout is the crontab byte for byte, stderr the complaint.
    public static let command: ShellScript = "crontab -l"

    /// The command inside a probe of several sections: the listing (stderr with it) in section
    /// `crontab`, then its status in `crontab-status`. The `echo` ends a last line left without a
    /// newline, so the status marker always starts a line of its own.
    public static func sections(_ marker: SectionMarker) -> ShellScript {
        "\(marker.start("crontab")); \(command) 2>&1; status=$?; echo; \(marker.start("crontab-status")); echo $status"
    }

    /// Reads what `sections` printed; nil when the status is missing (the output was cut short).
    public init?(sections: [String: [String]]) {
        guard let status = sections["crontab-status"]?.first.flatMap({ Int32($0) }) else { return nil }
        var lines = sections["crontab"] ?? []
        if lines.last == "" { lines.removeLast() }
        self.init(status: status, output: lines)
    }

    /// The one rule: `output` is what the command printed (the crontab when it listed one, its
    /// complaint when not).
    public init(status: Int32, output: [String]) {
        switch status {
        case 0: self = .listed(output)
        case 1 where output.contains(where: { $0.contains(Self.noCrontabMessage) }): self = .noCrontab
        default: self = .failed(status: status, message: String(Substring(output.joined(separator: " ")).trimmingWhitespace()))
        }
    }

    /// The crontab's lines: none when there is no crontab or it could not be read.
    public var lines: [String] {
        if case .listed(let lines) = self { lines } else { [] }
    }
}
