import Foundation
import HostCommands
import Remote

/// The database container as `docker inspect` sees it.
struct ContainerState: Sendable, Equatable {
    /// Nil when the container exists; otherwise docker's explanation.
    var inspectError: String?
    /// `ok`, or the state that keeps the database from answering: `paused`, `restarting`, `dead`,
    /// `oom-killed`, `unhealthy`, or docker's status when not running (`exited`, `created`, …).
    var gate = ""
    var status = ""
    /// "healthy", "starting", "unhealthy", or nil without a healthcheck.
    var health: String?
    var startedAt: Int?
    var now: Int

    var uptimeSeconds: Int? { startedAt.map { max(0, secondsBetween($0, now)) } }

    /// The one definition of "the database container can serve", as a docker template, so that
    /// db-running judges it and the report run checks it on the host the same way. Docker says
    /// Running=true for a paused container, so Running alone is not enough.
    static let gateTemplate = """
        {{if .State.Paused}}paused{{else if .State.Restarting}}restarting{{else if .State.Dead}}dead\
        {{else if .State.OOMKilled}}oom-killed{{else if not .State.Running}}{{.State.Status}}\
        {{else if .State.Health}}{{if eq .State.Health.Status "unhealthy"}}unhealthy{{else}}ok{{end}}{{else}}ok{{end}}
        """

    /// `docker inspect` printing the gate word, for a shell command (stderr kept).
    static func gateCommand(container: String) -> String {
        "docker inspect --type container --format \(shellQuote(gateTemplate)) -- \(shellQuote(container))"
    }

    /// The probe: `docker inspect` of the database container (gate word and state) and the clock.
    static func probe(_ settings: CheckSettings, marker: SectionMarker) -> HostProbe<ContainerState> {
        let name = settings.databaseContainer
        let command = RemoteCommand("""
            state=$(docker inspect --type container --format \(gateTemplate + " {{json .State}}") -- \(name) 2>&1); status=$?
            \(marker.start("status")); echo $status
            \(HostClock.section(marker))
            \(marker.start("state")); printf '%s\\n' "$state"
            """, timeout: settings.commandTimeout)
        return HostProbe("docker inspect of \(name)", command) { result in
            try parse(result, marker: marker)
        }
    }

    static func parse(_ result: CommandResult, marker: SectionMarker) throws -> ContainerState {
        let sections = marker.split(result.stdoutText)
        guard let status = sections["status"]?.first.flatMap({ Int($0) }) else {
            throw UnreadableOutput("no exit status")
        }
        let now = try HostClock.parse(sections: sections)
        let state = (sections["state"] ?? []).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if status != 0 {
            return ContainerState(inspectError: state.isEmpty ? "docker inspect exited \(status)" : state, now: now)
        }
        return try parse(state, now: now)
    }

    /// Parses `GATE {json State}`.
    static func parse(_ line: String, now: Int) throws -> ContainerState {
        struct State: Decodable {
            struct Health: Decodable { var Status: String }
            var Status: String
            var StartedAt: String
            var Health: Health?
        }
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, let state = try? JSONDecoder().decode(State.self, from: Data(parts[1].utf8)) else {
            throw UnreadableOutput("not a gate word and a JSON state")
        }
        return ContainerState(gate: String(parts[0]), status: state.Status, health: state.Health?.Status,
                              startedAt: parseUTC(state.StartedAt), now: now)
    }
}

public func formatAge(_ seconds: Int) -> String {
    switch seconds {
    case ..<120: return "\(seconds)s"
    case ..<7200: return "\(seconds / 60)m"
    case ..<172_800: return "\(seconds / 3600)h\((seconds % 3600) / 60)m"
    default: return "\(seconds / 86400)d\((seconds % 86400) / 3600)h"
    }
}
