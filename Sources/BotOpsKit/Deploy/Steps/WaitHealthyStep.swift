import Foundation
import HostCommands
import Remote

/// `builtin: wait-healthy`: running, not restarting, healthy if it has a healthcheck, for
/// `health.stable_for`.
struct WaitHealthyStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        let health = deployer.config.health
        return try await deployer.waitHealthy(timeout: min(step.timeout, health.timeout + health.stableFor))
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        // The containers `up` creates do not exist yet: named by their service here.
        [deployer.commands.containerStates(deployer.run.services.map { "<new \($0) container>" }, timeout: step.timeout)]
    }
}

extension Deployer {
    fileprivate func waitHealthy(timeout: Duration, clock: ContinuousClock = ContinuousClock()) async throws -> String? {
        let start = clock.now
        var tracker = HealthTracker(stableFor: config.health.stableFor)
        let containers = try await runningContainers(run.services)
        let probe = commands.containerStates(run.services.compactMap { containers[$0]?.container }, timeout: .seconds(30))
        var last = ""
        while true {
            var states: [String: HealthTracker.Observation] = [:]
            if !containers.isEmpty {
                let result = try await runner.run(probe)
                for line in result.stdout.split(separator: "\n") {
                    guard let observation = HealthTracker.Observation.parse(String(line)) else {
                        throw StepFailure(message: "docker inspect printed what botops cannot read: \(result.shownOutput.prefix(300))", refusal: nil)
                    }
                    states[observation.id] = observation
                }
                // A container removed meanwhile is "No such object"; anything else is docker's own failure.
                if !result.succeeded, !result.result.stderrText.contains("No such") {
                    throw StepFailure(message: "docker inspect failed: \(result.shownOutput.prefix(300))", refusal: nil)
                }
            }
            var observations: [String: HealthTracker.Observation?] = [:]
            for service in run.services {
                observations[service] = .some(containers[service].flatMap { states[$0.container] })
            }
            let elapsed = clock.now - start
            switch tracker.observe(observations, elapsed: elapsed) {
            case .healthy:
                let stopped = run.stopped.ifProduced?.started ?? [:]
                try run.healthy.update(from: HealthyContainers(), by: .step(.waitHealthy)) { healthy in
                    healthy.containers = containers
                    for (service, ready) in tracker.firstReady {
                        if let stopped = stopped[service] { healthy.downtime[service] = start + ready - stopped }
                    }
                }
                return "healthy and stable for \(seconds(config.health.stableFor))"
            case .failed(let service, let reason):
                try await showLogs(service, observations[service]??.id)
                throw StepFailure(message: "\(service) \(reason)", refusal: nil)
            case .waiting(let state):
                last = state
            }
            if elapsed >= timeout {
                for service in run.services { try await showLogs(service, observations[service]??.id) }
                throw StepFailure(message: "not healthy within \(seconds(timeout)): \(last)", refusal: nil)
            }
            try await clock.sleep(for: .milliseconds(250))
        }
    }

    fileprivate func showLogs(_ service: String, _ container: String?) async throws {
        guard let container else { return }
        let logs = try await runner.run(commands.logTail(container, lines: 20, timeout: .seconds(30)))
        emit(.output(step: "wait-healthy", line: "last lines of \(service)'s log:"))
        for line in logs.shownOutput.split(separator: "\n", omittingEmptySubsequences: false) {
            emit(.output(step: "wait-healthy", line: "  " + line))
        }
    }
}
