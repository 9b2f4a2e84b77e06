import Foundation
import HostCommands
import Remote

/// `builtin: stop`: stops the services' containers, timing the stop to name a service that
/// ignores SIGTERM.
struct StopStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.noteImagesToStart(timeout: step.timeout)
        return try await deployer.stopServices(timeout: deployer.stopTimeout(step))
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        let run = deployer.run
        return run.services.compactMap { service in
            run.running.ifProduced?[service].map {
                deployer.commands.stop(service, container: $0.container, grace: run.stack.ifProduced?.project.services[service]?.stopGracePeriod ?? .seconds(10),
                                       timeout: deployer.stopTimeout(step))
            }
        }
    }
}

extension Deployer {
    /// The stop step's timeout for the services of this run (see `DeployCommands.stopTimeout`).
    func stopTimeout(_ step: PlaybookStep) -> Duration {
        DeployCommands.stopTimeout(playbook: step.timeout, graces: run.services.compactMap { run.stack.ifProduced?.project.services[$0]?.stopGracePeriod })
    }

    /// Just before the stop, after the build (a deploy) or restore-image (a rollback): the image
    /// each service's name points at is the one `up` must start. Noted now, because the name may
    /// be moved again before the checks (another build on the host), and the container is judged
    /// against what `up` was given, not against whatever the name says later.
    fileprivate func noteImagesToStart(timeout: Duration) async throws {
        let names = run.services.compactMap { service in
            (run.running.ifProduced?[service]?.imageName ?? run.stack.ifProduced?.project.services[service]?.image).map { (service, $0) }
        }
        let idOf = try await imageIDs(Array(Set(names.map(\.1))).sorted(), timeout: timeout)
        try run.stopped.update(from: StoppedServices(), by: .step(.stop)) { stopped in
            for (service, name) in names { stopped.imagesToStart[service] = idOf[name] }
        }
    }

    /// Stops each service, timing it: a stop that used the whole grace period and ended in SIGKILL
    /// means the service ignores SIGTERM, which the operator should hear about.
    fileprivate func stopServices(timeout: Duration) async throws -> String? {
        let containers = try await runningContainers(run.services)
        let clock = ContinuousClock()
        var notes: [String] = []
        for service in run.services {
            guard let container = containers[service] else { continue }
            let grace = run.stack.ifProduced?.project.services[service]?.stopGracePeriod ?? .seconds(10)
            let start = clock.now
            try run.stopped.update(from: StoppedServices(), by: .step(.stop)) { $0.started[service] = start }
            try await runChecked(commands.stop(service, container: container.container, grace: grace, timeout: timeout), step: "stop")
            let took = clock.now - start
            let state = try await runner.run(commands.exitState(container.container, timeout: timeout))
            let exitCode = state.stdout.split(separator: " ").first.flatMap { Int($0) }
            if exitCode == 137, took >= grace - .milliseconds(500) {
                emit(.notice("\(service) ignored SIGTERM for \(seconds(took)) and was killed: its entrypoint does not forward signals (use the exec form, `init: true`, or a shorter stop_grace_period)"))
                notes.append("\(service) killed after \(seconds(took))")
            } else {
                notes.append("\(service) in \(seconds(took))")
            }
        }
        return notes.isEmpty ? "nothing running" : notes.joined(separator: ", ")
    }
}
