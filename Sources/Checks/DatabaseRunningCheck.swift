/// The runbook's `docker ps | grep db`, made exact: running and able to serve (not paused,
/// restarting, dead, OOM-killed or unhealthy).
struct DatabaseRunningCheck: FactCheck {
    let id = CheckID.dbRunning
    let title = "Database container is running"
    let prerequisites: [CheckID] = []

    func source(in probes: CheckProbes) -> ProbedFact<ContainerState> {
        probes.containerState
    }

    func evaluate(_ state: ContainerState, settings: CheckSettings) -> Verdict {
        let container = settings.databaseContainer
        if let error = state.inspectError {
            return .fail("container '\(container)' not found (\(error)). botops recover starts it again in the stack's own compose project (compose run from another directory or project would start the database on a new, empty volume)")
        }
        var evidence = [Evidence("state", state.gate == "ok" ? state.status : state.gate)]
        if let health = state.health { evidence.append(Evidence("health", health)) }
        if let uptime = state.uptimeSeconds, state.gate == "ok" { evidence.append(Evidence("uptime", formatAge(uptime))) }
        // `docker start` keeps the container and its volume; compose without the stack's project name (-p) could start a second, empty database.
        let fix = "Check docker logs \(container) --tail 50, then docker start \(container)"
        switch state.gate {
        case "ok":
            let summary = "Up \(state.uptimeSeconds.map(formatAge) ?? "?")" + (state.health.map { " (\($0))" } ?? "")
            if state.health == "starting" {
                return .warn("\(summary): healthcheck has not passed yet", evidence)
            }
            return .pass(summary, evidence)
        case "paused":
            return .fail("container '\(container)' is paused: its processes are frozen and queries hang. Resume it: docker unpause \(container)", evidence)
        case "restarting":
            return .fail("container '\(container)' is restarting in a loop. \(fix)", evidence)
        case "dead":
            return .fail("container '\(container)' is dead (docker failed to stop or remove it). Remove it (its volume stays): docker rm -f \(container), then botops recover", evidence)
        case "oom-killed":
            return .fail("container '\(container)' was OOM-killed: it ran out of memory. Check its memory limit and the host's free memory (docker stats), then docker start \(container)", evidence)
        case "unhealthy":
            return .fail("container '\(container)' runs but its healthcheck fails. \(fix)", evidence)
        default:
            return .fail("container '\(container)' is \(state.gate), not running. \(fix)", evidence)
        }
    }
}
