/// Reading lines of a crontab botops did not necessarily write (verify's cron-scheduled): the
/// schedule math for guarded lines and the commented-out form, kept here beside the parser.

extension ZoneGuard {
    /// When a guarded line next runs its command: the first fire after `instant` of its host-time
    /// `schedule` (read in `hostZone`) that the guard admits; nil when none does.
    public func next(after instant: Int64, of schedule: Schedule, in hostZone: CronZone) -> Int64? {
        var candidate = instant
        // Two candidate hours a day for a year is the most a guarded line needs to find its day.
        for _ in 0..<(2 * 24 * 400) {
            guard let next = schedule.next(after: candidate, in: hostZone) else { return nil }
            if admits(zone.local(at: next)) { return next }
            candidate = next
        }
        return nil
    }
}

extension CrontabLine {
    /// The line without its leading `#`s (and the blanks around them), when it is a comment: what
    /// a commented-out job would be.
    public static func uncommented(_ line: String) -> String? {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        guard trimmed.hasPrefix("#") else { return nil }
        return String(trimmed.drop { $0 == "#" || $0 == " " || $0 == "\t" })
    }
}
