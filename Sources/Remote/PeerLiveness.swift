/// Tells a dead host from a quiet one, as ssh's ServerAliveInterval and ServerAliveCountMax do.
///
/// While commands run, a keepalive asking for an answer goes out every `interval` (libssh2 sends
/// them; it cannot send more often than every 2 s). Any byte from the host is an answer. After
/// `countMax` keepalives went unanswered and one more interval passed with nothing, as in ssh, the
/// connection counts as lost: with the defaults (15 s, 3), after a minute of silence.
///
/// Silence is the time spent waiting for the host, not wall time: while botops itself is busy
/// (its output consumer is slow, say) the host cannot be blamed for not answering.
struct PeerLiveness {
    /// Seconds between keepalives; nil when keepalives are off (ServerAliveInterval 0).
    let keepaliveSeconds: Int?
    let serverAliveInterval: Int
    let countMax: Int
    private(set) var silence: Duration = .zero

    /// libssh2 treats any interval below 2 s as 2 s.
    static let shortestKeepalive = 2

    init(serverAliveInterval: Int, countMax: Int) {
        keepaliveSeconds = serverAliveInterval > 0 ? max(serverAliveInterval, Self.shortestKeepalive) : nil
        self.serverAliveInterval = serverAliveInterval
        self.countMax = max(countMax, 0)
    }

    /// How much silence means the host is gone.
    var limit: Duration? {
        keepaliveSeconds.map { .seconds($0 * (countMax + 1)) }
    }

    /// The host sent something.
    mutating func heard() {
        silence = .zero
    }

    /// botops waited `duration` for the host and nothing came.
    mutating func waited(_ duration: Duration) {
        silence += max(duration, .zero)
    }

    var isDead: Bool {
        limit.map { silence >= $0 } ?? false
    }

    /// How long a wait may last before the host must be declared dead; nil for no bound.
    var timeLeft: Duration? {
        limit.map { max($0 - silence, .zero) }
    }

    /// For the message: what was waited for, and the settings that said so.
    var lostDetail: String {
        let waited = limit.map { formatSeconds(totalSeconds($0)) } ?? "?"
        return "no answer for \(waited) although keepalives were sent (ServerAliveInterval \(serverAliveInterval), ServerAliveCountMax \(countMax))"
    }
}

/// The deadlines of commands still awaited by their callers. A command leaves when it finishes or
/// expires, so an expired deadline is reported once and never keeps the event loop awake.
struct CommandDeadlines<ID: Hashable> {
    private var deadlines: [ID: ContinuousClock.Instant] = [:]

    mutating func set(_ id: ID, _ deadline: ContinuousClock.Instant?) {
        deadlines[id] = deadline
    }

    mutating func remove(_ id: ID) {
        deadlines[id] = nil
    }

    /// Removes and returns the commands whose deadline is `now` or earlier.
    mutating func expire(at now: ContinuousClock.Instant) -> [ID] {
        let expired = deadlines.filter { $0.value <= now }.map(\.key)
        expired.forEach { deadlines[$0] = nil }
        return expired
    }

    /// Time until the nearest deadline; nil when there is none.
    func timeUntilNext(from now: ContinuousClock.Instant) -> Duration? {
        deadlines.values.min().map { max(now.duration(to: $0), .zero) }
    }
}
