@testable import Checks
import HostCommands
import Testing

@Suite struct DatabaseRunningCheckTests {
    let healthy = ContainerState(gate: "ok", status: "running", health: "healthy", startedAt: 1000, now: 1000 + 3 * 3600)

    func verdict(gate: String) -> Verdict {
        var state = healthy
        state.gate = gate
        return DatabaseRunningCheck().evaluate(state, settings: Fixture.settings)
    }

    @Test func passesWithUptimeAndHealth() {
        let verdict = DatabaseRunningCheck().evaluate(healthy, settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.message == "Up 3h0m (healthy)")
    }

    /// Docker says Running=true for a paused container; each state that cannot serve fails by name.
    @Test func pausedRestartingDeadOOMKilledUnhealthyAndStoppedFailNamingTheState() {
        let expected = ["paused": "is paused", "restarting": "restarting in a loop", "dead": "is dead",
                        "oom-killed": "OOM-killed", "unhealthy": "healthcheck fails", "exited": "is exited, not running"]
        for (gate, text) in expected {
            let result = verdict(gate: gate)
            #expect(result.status == .fail, "\(gate)")
            #expect(result.message.contains(text), "\(gate): \(result.message)")
            #expect(result.evidence.first == Evidence("state", gate))
        }
        let missing = ContainerState(inspectError: "Error: No such container: db", now: 0)
        #expect(DatabaseRunningCheck().evaluate(missing, settings: Fixture.settings).message.contains("not found"))
    }

    /// Compose run without the stack's project name (-p) starts a second database on a new, empty
    /// volume when the checkout's directory is not the project's name: the advice never says it.
    @Test func noAdviceStartsTheDatabaseThroughCompose() {
        var messages = ["paused", "restarting", "dead", "oom-killed", "unhealthy", "exited"].map { verdict(gate: $0).message }
        messages.append(DatabaseRunningCheck().evaluate(ContainerState(inspectError: "Error: No such container: db", now: 0), settings: Fixture.settings).message)
        for message in messages {
            #expect(!message.contains("compose up"), "\(message)")
        }
        #expect(verdict(gate: "exited").message.contains("docker start db"))
    }

    @Test func startingHealthcheckWarns() {
        var starting = healthy
        starting.health = "starting"
        #expect(DatabaseRunningCheck().evaluate(starting, settings: Fixture.settings).status == .warn)
    }

    @Test func parsesTheGateAndDockerInspectState() throws {
        let json = #"{"Status":"running","Running":true,"Paused":true,"Restarting":false,"StartedAt":"2026-11-22T19:17:36.123456789Z","Health":{"Status":"healthy","FailingStreak":0}}"#
        let state = try ContainerState.parse("paused 2 3b8b9db5918a " + json, now: 1_795_375_056 + 60)
        #expect(state.gate == "paused" && state.restarts == 2 && state.id == "3b8b9db5918a" && state.status == "running")
        #expect(state.health == "healthy")
        #expect(state.startedAt == 1_795_375_056)
        #expect(state.uptimeSeconds == 60)
        #expect(throws: UnreadableOutput.self) { try ContainerState.parse(json, now: 0) }
        #expect(throws: UnreadableOutput.self) { try ContainerState.parse("paused " + json, now: 0) }
        #expect(throws: UnreadableOutput.self) { try ContainerState.parse("paused x 3b8b9db5918a " + json, now: 0) }
    }
}
