/// Whose rules a schedule is read by.
public enum ScheduleReading: Hashable, Sendable {
    /// crontab.d: only what every cron reads the same way, and only schedules that fire.
    case strict
    /// A line already in a host's crontab, read as that host's cron daemon reads it.
    case host(CronDaemon)
}

/// The cron daemons botops knows; they differ in `CRON_TZ` and in a few field forms.
public enum CronDaemon: String, Hashable, Sendable {
    /// Debian's and Ubuntu's cron (Vixie cron 3.0 with Debian's patches): ignores `CRON_TZ`,
    /// refuses `5/15`.
    case debian
    /// cronie (Fedora, RHEL, Arch): honours `CRON_TZ`, reads `5/15` as `5-59/15`.
    case cronie
}

/// One of the five fields of a cron schedule.
public enum FieldKind: String, Sendable, CaseIterable {
    case minute
    case hour
    case dayOfMonth = "day of month"
    case month
    case dayOfWeek = "day of week"

    /// The values cron accepts (day of week: 0 and 7 are both Sunday).
    public var range: ClosedRange<Int> {
        switch self {
        case .minute: return 0...59
        case .hour: return 0...23
        case .dayOfMonth: return 1...31
        case .month: return 1...12
        case .dayOfWeek: return 0...7
        }
    }

    var names: [String] {
        switch self {
        case .month: return ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        case .dayOfWeek: return ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        default: return []
        }
    }

    /// Value of `names[0]`.
    private var firstNameValue: Int { self == .month ? 1 : 0 }

    func value(named name: Substring) -> Int? {
        names.firstIndex(of: name.uppercased()).map { $0 + firstNameValue }
    }

    /// "0-23", "1-12 or JAN-DEC", "0-7 (0 and 7 are Sunday) or SUN-SAT"
    public var allowed: String {
        switch self {
        case .month: return "1-12 or JAN-DEC"
        case .dayOfWeek: return "0-7 (0 and 7 are Sunday) or SUN-SAT"
        default: return "\(range.lowerBound)-\(range.upperBound)"
        }
    }
}

/// A schedule that cron would not accept, or that could never fire.
public struct ScheduleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field at fault; nil when the schedule as a whole is wrong.
    public var field: FieldKind?
    public var value: String
    public var problem: String

    public var description: String {
        guard let field else { return problem }
        return "field '\(field.rawValue)' value '\(value)': \(problem); allowed \(field.allowed)"
    }
}

/// The set of values one field allows.
public struct CronField: Hashable, Sendable {
    public let kind: FieldKind
    /// Bit n set when value n is allowed (day of week: 7 is folded into 0).
    let bits: UInt64
    /// Cron's day rule asks whether the field was written starting with `*` (so `*/2` counts as `*`).
    public let startsWithStar: Bool

    public func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0
    }

    /// The allowed values, ascending.
    public var values: [Int] {
        (0..<64).filter(contains)
    }

    /// True when every value of the field's range is allowed.
    public var isFull: Bool {
        values == Array(kind == .dayOfWeek ? 0...6 : kind.range)
    }

    init(kind: FieldKind, values: [Int], startsWithStar: Bool) {
        self.kind = kind
        self.bits = values.reduce(0) { $0 | 1 << UInt64(kind == .dayOfWeek && $1 == 7 ? 0 : $1) }
        self.startsWithStar = startsWithStar
    }

    /// Parses one field: `*`, `*/15`, `5`, `1-5`, `0-30/10`, `MON-FRI`, and comma lists of these.
    static func parse(_ text: Substring, as kind: FieldKind, reading: ScheduleReading = .strict) throws -> CronField {
        func fail(_ problem: String) -> ScheduleError {
            ScheduleError(field: kind, value: String(text), problem: problem)
        }
        guard !text.isEmpty else { throw fail("empty") }
        var values: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw fail("empty list item") }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw fail("more than one '/'") }
            var range: ClosedRange<Int>
            if parts[0] == "*" {
                range = kind.range
            } else {
                let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw fail("a range has two ends, like 1-5") }
                let low = try number(bounds[0], kind, fail)
                let high = bounds.count == 2 ? try number(bounds[1], kind, fail) : low
                guard low <= high else { throw fail("range \(parts[0]) runs backwards") }
                range = low...high
                if parts.count == 2 && bounds.count == 1 {
                    switch reading {
                    case .host(.cronie):
                        // cronie reads `N/step` as N to the end of the range.
                        range = low...kind.range.upperBound
                    case .host(.debian):
                        throw fail("Debian's cron refuses this line (bad \(kind.rawValue)): a step needs a range or '*'")
                    case .strict:
                        throw fail("a step needs a range or '*': write \(low)-\(kind.range.upperBound)/\(parts[1]) or */\(parts[1])")
                    }
                }
            }
            var step = 1
            if parts.count == 2 {
                guard parts[1].count <= 3, let parsed = Int(parts[1]), parts[1].allSatisfy(\.isASCIIDigit),
                      parsed >= 1, parsed <= kind.range.upperBound
                else { throw fail("step '\(parts[1])' must be a number from 1 to \(kind.range.upperBound)") }
                step = parsed
            }
            values += Array(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        return CronField(kind: kind, values: values, startsWithStar: text.hasPrefix("*"))
    }

    private static func number(_ text: Substring, _ kind: FieldKind, _ fail: (String) -> ScheduleError) throws -> Int {
        if let named = kind.value(named: text) { return named }
        guard !text.isEmpty, text.count <= 4, text.allSatisfy(\.isASCIIDigit), let value = Int(text) else {
            throw fail(kind.names.isEmpty ? "'\(text)' is not a number" : "'\(text)' is neither a number nor a name")
        }
        guard kind.range.contains(value) else { throw fail("\(value) is out of range") }
        return value
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A cron schedule: five fields, or one of `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`,
/// `@reboot`.
public struct Schedule: Hashable, Sendable, CustomStringConvertible {
    /// The schedule as written, fields joined by single spaces.
    public let text: String
    public let isReboot: Bool
    public let minute: CronField
    public let hour: CronField
    public let dayOfMonth: CronField
    public let month: CronField
    public let dayOfWeek: CronField

    public var description: String { text }

    static let keywords: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *", "@reboot": "0 0 1 1 *",
    ]

    /// Parses `0 9 * * 1` or `@weekly` (the schedule part of a crontab line, without the command).
    public static func parse(_ text: String, reading: ScheduleReading = .strict) throws -> Schedule {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return try parse(tokens: tokens, reading: reading)
    }

    /// Parses the schedule tokens of a crontab line: one `@keyword`, or five fields. `.strict`
    /// (crontab.d) also refuses a schedule that never fires; a host's cron accepts it.
    public static func parse(tokens: [Substring], reading: ScheduleReading = .strict) throws -> Schedule {
        if tokens.count == 1, tokens[0].hasPrefix("@") {
            guard let fields = keywords[tokens[0].lowercased()] else {
                throw ScheduleError(field: nil, value: String(tokens[0]),
                                    problem: "unknown '\(tokens[0])'; expected @hourly, @daily, @weekly, @monthly, @yearly or @reboot")
            }
            let expanded = try parse(tokens: fields.split(separator: " "))
            return Schedule(text: tokens[0].lowercased(), isReboot: tokens[0].lowercased() == "@reboot", fields: expanded)
        }
        guard tokens.count == 5 else {
            throw ScheduleError(field: nil, value: tokens.joined(separator: " "),
                                problem: "a schedule has five fields (minute hour day-of-month month day-of-week) or is one @keyword; found \(tokens.count) fields")
        }
        let fields = try zip(tokens, FieldKind.allCases).map { try CronField.parse($0, as: $1, reading: reading) }
        let schedule = Schedule(text: tokens.joined(separator: " "), minute: fields[0], hour: fields[1],
                                dayOfMonth: fields[2], month: fields[3], dayOfWeek: fields[4])
        guard schedule.canFire || reading != .strict else {
            throw ScheduleError(field: nil, value: tokens.joined(separator: " "),
                                problem: "field 'day of month' value '\(tokens[2])': no month of '\(tokens[3])' has such a day, so this schedule never fires")
        }
        return schedule
    }

    private init(text: String, minute: CronField, hour: CronField, dayOfMonth: CronField, month: CronField, dayOfWeek: CronField) {
        self.text = text
        self.isReboot = false
        self.minute = minute
        self.hour = hour
        self.dayOfMonth = dayOfMonth
        self.month = month
        self.dayOfWeek = dayOfWeek
    }

    private init(text: String, isReboot: Bool, fields: Schedule) {
        self.text = text
        self.isReboot = isReboot
        self.minute = fields.minute
        self.hour = fields.hour
        self.dayOfMonth = fields.dayOfMonth
        self.month = fields.month
        self.dayOfWeek = fields.dayOfWeek
    }

    /// Cron's day rule: when both day fields are restricted (neither starts with `*`), a day
    /// matches if either does; otherwise both must.
    public var daysMatchEither: Bool { !dayOfMonth.startsWithStar && !dayOfWeek.startsWithStar }

    public func dayMatches(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        guard self.month.contains(month) else { return false }
        let byDate = dayOfMonth.contains(day)
        let byWeekday = dayOfWeek.contains(weekday)
        return daysMatchEither ? (byDate || byWeekday) : (byDate && byWeekday)
    }

    /// True when the wall-clock minute `local` is one of this schedule's.
    public func matches(_ local: LocalTime) -> Bool {
        !isReboot && minute.contains(local.minute) && hour.contains(local.hour)
            && dayMatches(year: local.year, month: local.month, day: local.day, weekday: local.weekday)
    }

    /// Minutes of the day (hour × 60 + minute) this schedule fires at, ascending.
    public var minutesOfDay: [Int] {
        hour.values.flatMap { h in minute.values.map { h * 60 + $0 } }
    }

    /// Some date exists on which the day fields match (`30 2` never does; weekday alternatives always do).
    public var canFire: Bool {
        if daysMatchEither && !dayOfWeek.values.isEmpty { return true }
        return month.values.contains { m in dayOfMonth.values.contains { $0 <= Civil.daysInMonth(year: 2000, month: m) } }
    }
}
