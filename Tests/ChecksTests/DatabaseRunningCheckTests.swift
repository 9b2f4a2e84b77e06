@testable import Checks
import Testing

@Suite struct DatabaseRunningCheckTests {
    let healthy = ContainerState(status: "running", running: true, health: "healthy", startedAt: 1000, now: 1000 + 3 * 3600)

    @Test func passesWithUptimeAndHealth() {
        let verdict = DatabaseRunningCheck().evaluate(healthy, settings: Fixture.settings)
        #expect(verdict.status == .pass)
        #expect(verdict.message == "Up 3h0m (healthy)")
    }

    @Test func stoppedRestartingUnhealthyAndMissingFail() {
        var stopped = healthy
        stopped.running = false
        stopped.status = "exited"
        #expect(DatabaseRunningCheck().evaluate(stopped, settings: Fixture.settings).message.contains("is exited, not running"))
        var restarting = healthy
        restarting.restarting = true
        #expect(DatabaseRunningCheck().evaluate(restarting, settings: Fixture.settings).message.contains("restarting"))
        var unhealthy = healthy
        unhealthy.health = "unhealthy"
        #expect(DatabaseRunningCheck().evaluate(unhealthy, settings: Fixture.settings).status == .fail)
        let missing = ContainerState(inspectError: "Error: No such container: db", now: 0)
        #expect(DatabaseRunningCheck().evaluate(missing, settings: Fixture.settings).message.contains("not found"))
    }

    @Test func startingHealthcheckWarns() {
        var starting = healthy
        starting.health = "starting"
        #expect(DatabaseRunningCheck().evaluate(starting, settings: Fixture.settings).status == .warn)
    }

    @Test func parsesDockerInspectState() throws {
        let json = #"{"Status":"running","Running":true,"Paused":false,"Restarting":false,"StartedAt":"2026-11-22T19:17:36.123456789Z","Health":{"Status":"healthy","FailingStreak":0}}"#
        let state = try ContainerState.parse(json: json, now: 1_795_375_056 + 60)
        #expect(state.running)
        #expect(state.health == "healthy")
        #expect(state.startedAt == 1_795_375_056)
        #expect(state.uptimeSeconds == 60)
    }
}
