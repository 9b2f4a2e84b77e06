/// Seed 000 check 4: `docker ps | grep db`.
public struct DatabaseRunningCheck: Check {
    public let id = "db-running"
    public let title = "Database container is running"
    public let prerequisites: [String] = []

    public func prefetch(in context: CheckContext) {
        context.prefetch(CheckContext.containerState)
    }

    public func run(in context: CheckContext) async throws -> Verdict {
        Self.evaluate(try await context.containerState(), container: context.settings.databaseContainer)
    }

    static func evaluate(_ state: ContainerState, container: String) -> Verdict {
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
