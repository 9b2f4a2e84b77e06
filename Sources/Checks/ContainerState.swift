import Foundation
import HostCommands
import Remote

/// The database container as `docker inspect` sees it: the one reading of its state, health,
/// start time and restarts, for verify's db-running and gate, and for status.
public struct ContainerState: Sendable, Equatable {
    /// Nil when the container exists; otherwise docker's explanation.
    public var inspectError: String?
    /// `ok`, or the state that keeps the database from answering: `paused`, `restarting`, `dead`,
    /// `oom-killed`, `unhealthy`, or docker's status when not running (`exited`, `created`, …).
    public var gate = ""
    /// The container's full id.
    public var id = ""
    public var status = ""
    /// "healthy", "starting", "unhealthy", or nil without a healthcheck.
    public var health: String?
    public var startedAt: Int?
    public var restarts = 0
    /// The host's clock when it was read.
    public var now: Int

    public var uptimeSeconds: Int? { startedAt.map { max(0, secondsBetween($0, now)) } }

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

    /// `docker inspect` of `container` (gate word, restarts, id and state), in sections `db-status`
    /// (its exit status) and `db-state` (what it printed), for a probe of its caller's with the
    /// host's clock. `.ID`, not `.Id`: the template must run on docker's typed container, where
    /// `{{if .State.Health}}` works without a healthcheck (see `DeployCommands.stateFormat`).
    public static func script(container: String, marker: SectionMarker) -> ShellScript {
        """
        state=$(docker inspect --type container --format \(gateTemplate + " {{.RestartCount}} {{.ID}} {{json .State}}") -- \(container) 2>&1); status=$?
        \(marker.start("db-status")); echo $status
        \(marker.start("db-state")); printf '%s\\n' "$state"
        """
    }

    /// The probe of verify: `script` and the host's clock.
    static func probe(_ settings: CheckSettings, marker: SectionMarker) -> HostProbe<ContainerState> {
        let name = settings.databaseContainer
        let command = RemoteCommand(.lines([script(container: name, marker: marker), HostClock.section(marker)]), timeout: settings.commandTimeout)
        return HostProbe("docker inspect of \(name)", command) { result in
            let sections = marker.split(result.stdoutText)
            return try parse(sections: sections, now: try HostClock.parse(sections: sections))
        }
    }

    /// `script`'s sections, the clock read beside them being `now`.
    public static func parse(sections: [String: [String]], now: Int) throws -> ContainerState {
        guard let status = sections["db-status"]?.first.flatMap({ Int($0) }) else {
            throw UnreadableOutput("no exit status")
        }
        let state = (sections["db-state"] ?? []).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        if status != 0 {
            return ContainerState(inspectError: state.isEmpty ? "docker inspect exited \(status)" : state, now: now)
        }
        return try parse(state, now: now)
    }

    /// Parses `GATE RESTARTS ID {json State}`.
    static func parse(_ line: String, now: Int) throws -> ContainerState {
        struct State: Decodable {
            struct Health: Decodable { var Status: String }
            var Status: String
            var StartedAt: String
            var Health: Health?
        }
        let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
        guard parts.count == 4, let restarts = Int(parts[1]), let state = try? JSONDecoder().decode(State.self, from: Data(parts[3].utf8)) else {
            throw UnreadableOutput("not a gate word, a restart count, an id and a JSON state")
        }
        return ContainerState(gate: parts[0], id: parts[2], status: state.Status, health: state.Health?.Status,
                              startedAt: parseUTC(state.StartedAt), restarts: restarts, now: now)
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
