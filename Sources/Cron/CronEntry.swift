/// One crontab.d entry: a file `NAME.cron` holding an optional `CRON_TZ=`, one schedule line and
/// `# botops: …` directives.
///
/// ```
/// # Weekly strategy review, Mondays 09:00 Pacific
/// CRON_TZ=America/Los_Angeles
/// 0 9 * * 1 /opt/bot/weekly_strategy_review.sh >> /opt/bot/logs/weekly_review_cron.log 2>&1
/// # botops: blackout 10m
/// # botops: expects logs/weekly_review_*.txt
/// ```
public struct CronEntry: Hashable, Sendable {
    public let name: String
    /// The zone the schedule is written in; nil means the host's own zone.
    public let zone: CronZone?
    public let schedule: Schedule
    /// The command exactly as written (crontab syntax: an unescaped `%` starts stdin).
    public let command: String
    /// Deploys refuse to start this many seconds before or after a fire.
    public let blackoutSeconds: Int64?
    /// Files a fire should produce, relative to the app's checkout (or absolute).
    public let expects: [String]
    /// Where the entry came from, for messages: `crontab.d/weekly-strategy-review.cron`.
    public let source: String

    public static let fileExtension = ".cron"

    /// The command as the shell reads it: the one parser of "which programs a line runs".
    public var parsedCommand: CronCommand { CronCommand(command) }

    /// The file the command appends its output to (`>> FILE` or `> FILE`), if it redirects stdout.
    public var logFile: String? {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" })
        for (index, word) in words.enumerated() {
            for operatorText in [">>", ">", "1>>", "1>"] where word.hasPrefix(operatorText) {
                let rest = word.dropFirst(operatorText.count)
                if rest.hasPrefix(">") || rest.hasPrefix("&") { continue }
                if !rest.isEmpty { return String(rest) }
                if index + 1 < words.count { return String(words[index + 1]) }
            }
        }
        return nil
    }

    /// Entry names become file names and crontab markers: letters, digits, `.`, `_`, `-`.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }

    /// Longest command botops installs: Debian's cron reads at most 1000 bytes of a command.
    static let maximumCommandBytes = 900
}

/// A problem in a crontab.d file: which file, which line, and what is expected.
public struct EntryError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var problem: String

    public init(file: String, line: Int?, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(problem)"
    }
}

extension CronEntry {
    /// Parses the text of `NAME.cron`. `source` names the file in messages.
    public static func parse(_ text: String, name: String, source: String) throws -> CronEntry {
        guard isValidName(name) else {
            throw EntryError(file: source, line: nil, problem: "'\(name)' is not a valid entry name: use letters, digits, '.', '_' and '-', starting with a letter or digit")
        }
        var zone: CronZone?
        var zoneLine: Int?
        var scheduled: (schedule: Schedule, command: String, line: Int)?
        var blackout: Int64?
        var expects: [String] = []

        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func fail(_ problem: String) -> EntryError { EntryError(file: source, line: number, problem: problem) }
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard !line.utf8.contains(0) else { throw fail("the line contains a NUL byte") }
            let trimmed = line.trimmingWhitespace()
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("#") {
                let comment = trimmed.dropFirst().trimmingWhitespace()
                guard comment.hasPrefix("botops:") else { continue }
                let directive = comment.dropFirst("botops:".count).trimmingWhitespace()
                let words = directive.split(whereSeparator: { $0 == " " || $0 == "\t" })
                switch words.first {
                case "blackout":
                    guard words.count == 2, let seconds = parseWindow(words[1]) else {
                        throw fail("directive 'blackout' takes one duration from 1m to 12h, such as 10m or 1h; got '\(directive)'")
                    }
                    guard blackout == nil else { throw fail("a second 'blackout' directive; keep one") }
                    blackout = seconds
                case "expects":
                    guard words.count == 2, !words[1].split(separator: "/").contains("..") else {
                        throw fail("directive 'expects' takes one path pattern without spaces or '..', such as logs/weekly_review_*.txt; got '\(directive)'")
                    }
                    expects.append(String(words[1]))
                default:
                    throw fail("unknown directive '\(words.first ?? "")'; expected 'blackout DURATION' or 'expects PATTERN'")
                }
                continue
            }
            if let equals = trimmed.firstIndex(of: "="), isEnvironmentName(trimmed[..<equals]) {
                let key = trimmed[..<equals].trimmingWhitespace()
                guard key == "CRON_TZ" else {
                    throw fail("'\(key)=' is not supported here: an entry may set only CRON_TZ; set other variables inside the command or its script")
                }
                guard zoneLine == nil else { throw fail("a second CRON_TZ line (the first is line \(zoneLine ?? 0)); keep one") }
                guard scheduled == nil else { throw fail("CRON_TZ must come before the schedule line") }
                let value = trimmed[trimmed.index(after: equals)...].trimmingWhitespace().trimmingQuotes()
                guard let parsed = CronZone(identifier: String(value)) else {
                    throw fail("CRON_TZ '\(value)' is not a time zone of the tz database; use a name such as America/Los_Angeles or UTC")
                }
                zone = parsed
                zoneLine = number
                continue
            }
            guard scheduled == nil else {
                throw fail("a second schedule line (the first is line \(scheduled?.line ?? 0)); one entry per file: put this job in its own file")
            }
            let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let count = words.first?.hasPrefix("@") == true ? 1 : 5
            guard words.count > count else {
                throw fail("expected a schedule and a command, such as '0 9 * * 1 /opt/bot/weekly_strategy_review.sh'")
            }
            let schedule: Schedule
            do {
                schedule = try Schedule.parse(tokens: Array(words.prefix(count)))
            } catch let error as ScheduleError {
                throw fail(error.description)
            }
            let command = String(trimmed[words[count].startIndex...])
            guard command.utf8.count <= maximumCommandBytes else {
                throw fail("the command is \(command.utf8.count) bytes; cron reads at most \(maximumCommandBytes) here: move it into a script")
            }
            scheduled = (schedule, command, number)
        }
        guard let scheduled else {
            throw EntryError(file: source, line: nil, problem: "no schedule line; add one such as '0 9 * * 1 /opt/bot/weekly_strategy_review.sh'")
        }
        if scheduled.schedule.isReboot, let zoneLine {
            throw EntryError(file: source, line: zoneLine, problem: "@reboot has no time of day, so CRON_TZ means nothing here; remove it")
        }
        return CronEntry(name: name, zone: zone, schedule: scheduled.schedule, command: scheduled.command,
                         blackoutSeconds: blackout, expects: expects, source: source)
    }
}

/// `10m` → 600, `1h` → 3600: minutes or hours, from one minute to twelve hours.
func parseWindow(_ text: Substring) -> Int64? {
    guard let unit = text.last, let value = Int64(text.dropLast()), text.dropLast().allSatisfy(\.isASCIIDigit) else { return nil }
    let seconds: Int64
    switch unit {
    case "m": seconds = value * 60
    case "h": seconds = value * 3600
    default: return nil
    }
    return (60...43_200).contains(seconds) ? seconds : nil
}

/// A crontab environment line starts with a name and `=`: `MAILTO=ops`, `CRON_TZ = UTC`.
func isEnvironmentName(_ text: Substring) -> Bool {
    let name = text.trimmingWhitespace()
    guard let first = name.first, first.isLetter || first == "_" else { return false }
    return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        guard let start = firstIndex(where: { $0 != " " && $0 != "\t" }),
              let end = lastIndex(where: { $0 != " " && $0 != "\t" })
        else { return self[endIndex...] }
        return self[start...end]
    }

    func trimmingQuotes() -> Substring {
        if count >= 2, let first, first == "\"" || first == "'", last == first {
            return dropFirst().dropLast()
        }
        return self
    }
}
