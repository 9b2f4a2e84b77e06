/// A command's time limit, judged at instants the caller reads from its clock (tests give their own).
struct CommandDeadline {
    let deadline: ContinuousClock.Instant?

    init(timeout: Duration?, start: ContinuousClock.Instant) {
        deadline = timeout.map { start.advanced(by: $0) }
    }

    func isExpired(at now: ContinuousClock.Instant) -> Bool {
        deadline.map { now >= $0 } ?? false
    }

    /// How long a wait for output may last at `now`: until the deadline; nil for no limit.
    func timeLeft(at now: ContinuousClock.Instant) -> Duration? {
        deadline.map { max(now.duration(to: $0), .zero) }
    }
}

/// `wait` in poll(2)'s milliseconds (-1, no limit, for nil), rounded up: a wake before the
/// deadline would only poll again, and a sub-millisecond rest must not become a 0 ms busy loop.
func pollMilliseconds(_ wait: Duration?) -> Int32 {
    guard let wait else { return -1 }
    return Int32(clamping: Int64((totalSeconds(max(wait, .zero)) * 1000).rounded(.up)))
}
