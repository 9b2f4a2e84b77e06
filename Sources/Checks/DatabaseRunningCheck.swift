/// Seed 000 check 4: `docker ps | grep db`.
struct DatabaseRunningCheck: FactCheck {
    let id = CheckID.dbRunning
    let title = "Database container is running"
    let prerequisites: [CheckID] = []

    func fact(in context: CheckContext) async throws -> ContainerState {
        try await context.containerState()
    }

    func evaluate(_ state: ContainerState, settings: CheckSettings) -> Verdict {
        let container = settings.databaseContainer
        if let error = state.inspectError {
            return .fail("container '\(container)' not found (\(error)). Start it: docker compose up -d \(container)")
        }
        var evidence = [Evidence("state", state.status)]
        if let health = state.health { evidence.append(Evidence("health", health)) }
        if let uptime = state.uptimeSeconds { evidence.append(Evidence("uptime", formatAge(uptime))) }
        let fix = "Check docker logs \(container) --tail 50, then docker compose up -d \(container)"
        if state.restarting {
            return .fail("container '\(container)' is restarting in a loop. \(fix)", evidence)
        }
        guard state.running else {
            return .fail("container '\(container)' is \(state.status), not running. \(fix)", evidence)
        }
        let summary = "Up \(state.uptimeSeconds.map(formatAge) ?? "?")" + (state.health.map { " (\($0))" } ?? "")
        switch state.health {
        case "unhealthy":
            return .fail("container '\(container)' runs but its healthcheck fails. \(fix)", evidence)
        case "starting":
            return .warn("\(summary): healthcheck has not passed yet", evidence)
        default:
            return .pass(summary, evidence)
        }
    }
}
