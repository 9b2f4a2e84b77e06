/// Judges a deploy's containers as `docker inspect` sees them over time: healthy once every one
/// is running, not restarting, healthy if it has a healthcheck, and has stayed so (same
/// container, no restart) for `stableFor`. Pure: the caller polls and says what time it is.
struct HealthTracker {
    struct Observation: Equatable {
        var id: String
        var status: String
        var restarting: Bool
        /// "healthy", "starting", "unhealthy"; empty without a healthcheck.
        var health: String
        var restarts: Int

        /// "ID|STATUS|RESTARTING|HEALTH|RESTARTS|STARTED-AT" from `DeployCommands.containerStates`.
        static func parse(_ text: String) -> Observation? {
            let fields = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 5, let restarts = Int(fields[4]) else { return nil }
            return Observation(id: fields[0], status: fields[1], restarting: fields[2] == "true", health: fields[3], restarts: restarts)
        }
    }

    enum Verdict: Equatable {
        case waiting(String)
        case healthy
        case failed(service: String, reason: String)
    }

    /// A crash loop: this many restarts since the wait began is a failure, not a slow start.
    static let restartLimit = 3

    let stableFor: Duration
    private var first: [String: Observation] = [:]
    private var last: [String: Observation] = [:]
    private var stableSince: [String: Duration] = [:]
    /// When each service was first seen ready: the end of its downtime.
    private(set) var firstReady: [String: Duration] = [:]

    init(stableFor: Duration) {
        self.stableFor = stableFor
    }

    /// `elapsed` is the time since the wait began.
    mutating func observe(_ observations: [String: Observation?], elapsed: Duration) -> Verdict {
        var waitingFor: [String] = []
        for (service, observation) in observations.sorted(by: { $0.key < $1.key }) {
            guard let observation else {
                return .failed(service: service, reason: "has no container")
            }
            let initial = first[service] ?? observation
            first[service] = initial
            if observation.restarts - initial.restarts >= Self.restartLimit {
                return .failed(service: service, reason: "keeps restarting (\(observation.restarts - initial.restarts) restarts since it was started): it exits at start")
            }
            if !observation.restarting && (observation.status == "exited" || observation.status == "dead") {
                return .failed(service: service, reason: "\(observation.status) right after starting")
            }
            // Unhealthy while it crash-loops is the loop's doing; the restart count judges that.
            if observation.health == "unhealthy", !observation.restarting, observation.restarts == initial.restarts {
                return .failed(service: service, reason: "its healthcheck reports unhealthy")
            }
            // A replaced container or a restart starts the stable window again.
            if let previous = last[service], previous.id != observation.id || previous.restarts != observation.restarts {
                stableSince[service] = nil
            }
            last[service] = observation
            let ready = observation.status == "running" && !observation.restarting && (observation.health.isEmpty || observation.health == "healthy")
            if ready {
                firstReady[service] = firstReady[service] ?? elapsed
                let since = stableSince[service] ?? elapsed
                stableSince[service] = since
                if elapsed - since < stableFor { waitingFor.append("\(service) stable for \(seconds(elapsed - since))") }
            } else {
                stableSince[service] = nil
                waitingFor.append("\(service) \(observation.restarting ? "restarting" : observation.health.isEmpty ? observation.status : observation.health)")
            }
        }
        return waitingFor.isEmpty ? .healthy : .waiting(waitingFor.joined(separator: ", "))
    }
}
