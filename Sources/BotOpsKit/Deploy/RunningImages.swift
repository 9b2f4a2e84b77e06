import Foundation
import HostCommands
import Remote

/// The services' running containers and what image tags name: read by several steps, the dry run
/// and status.
extension Deployer {
    /// Each service's newest container and its image.
    func runningContainers(_ services: [String]) async throws -> [String: RunningContainer] {
        try await Self.containers(services, commands: commands, runner: runner)
    }

    static func containers(_ services: [String], commands: DeployCommands, runner: any CommandRunner) async throws -> [String: RunningContainer] {
        parseContainers(try await runner.run(commands.serviceContainers(services, timeout: .seconds(60))).stdout, services: services)
    }

    /// `serviceContainers`'s lines (`DeployCommands.containerFormat`), by service.
    static func parseContainers(_ stdout: String, services: [String]) -> [String: RunningContainer] {
        var containers: [String: RunningContainer] = [:]
        for line in stdout.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count == 4, services.contains(fields[0]) {
                containers[fields[0]] = RunningContainer(container: fields[1], imageID: fields[2], imageName: fields[3])
            }
        }
        return containers
    }

    /// What each recorded tag of the run's services (and `extra`) names now: "TAG → IMAGE-ID".
    func taggedImages(extra: [String] = [], timeout: Duration) async throws -> [String: String] {
        let releases = try run.releases.value()
        let tags = Set(run.services.flatMap { releases.services[$0, default: []].map(\.image) } + extra).sorted()
        return try await imageIDs(tags, timeout: timeout)
    }

    /// The image each of `tags` names, for those that exist.
    func imageIDs(_ tags: [String], timeout: Duration) async throws -> [String: String] {
        guard !tags.isEmpty else { return [:] }
        return try await commands.imageIDs(tags, timeout: timeout).run(on: runner)
    }
}
