import Foundation
import Remote

/// The database container as `docker inspect` sees it.
struct ContainerState: Sendable, Equatable {
    /// Nil when the container exists; otherwise docker's explanation.
    var inspectError: String?
    var status = ""
    var running = false
    var restarting = false
    /// "healthy", "starting", "unhealthy", or nil without a healthcheck.
    var health: String?
    var startedAt: Int?
    var now: Int

    var uptimeSeconds: Int? { startedAt.map { max(0, now - $0) } }

    static func gather(_ context: CheckContext) async throws -> ContainerState {
        let marker = context.marker
        let name = shellQuote(context.settings.databaseContainer)
        let command = """
            state=$(docker inspect --type container --format '{{json .State}}' -- \(name) 2>&1); status=$?
            echo \(marker) status; echo $status
            echo \(marker) now; date +%s
            echo \(marker) state; printf '%s\\n' "$state"
            """
        let result = try await context.run(command)
        let sections = context.sections(result.stdoutText)
        guard let status = sections["status"]?.first.flatMap({ Int($0) }), let now = sections["now"]?.first.flatMap({ Int($0) }) else {
            throw CheckError.unexpectedOutput(command: "docker inspect", output: result.stdoutText + result.stderrText)
        }
        let state = (sections["state"] ?? []).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if status != 0 {
            return ContainerState(inspectError: state.isEmpty ? "docker inspect exited \(status)" : state, now: now)
        }
        return try parse(json: state, now: now)
    }

    static func parse(json: String, now: Int) throws -> ContainerState {
        struct State: Decodable {
            struct Health: Decodable { var Status: String }
            var Status: String
            var Running: Bool
            var Restarting: Bool
            var StartedAt: String
            var Health: Health?
        }
        guard let state = try? JSONDecoder().decode(State.self, from: Data(json.utf8)) else {
            throw CheckError.unexpectedOutput(command: "docker inspect", output: json)
        }
        return ContainerState(status: state.Status, running: state.Running, restarting: state.Restarting,
                              health: state.Health?.Status, startedAt: parseUTC(state.StartedAt), now: now)
    }
}

func formatAge(_ seconds: Int) -> String {
    switch seconds {
    case ..<120: return "\(seconds)s"
    case ..<7200: return "\(seconds / 60)m"
    case ..<172_800: return "\(seconds / 3600)h\((seconds % 3600) / 60)m"
    default: return "\(seconds / 86400)d\((seconds % 86400) / 3600)h"
    }
}
