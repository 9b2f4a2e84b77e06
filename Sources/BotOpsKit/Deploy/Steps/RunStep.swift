import Foundation
import HostCommands
import Remote

/// A `run:` step: its command template, rendered with the run's values (once, or once per
/// service) and run in the checkout.
struct RunStep: DeployStep {
    let template: PlaybookTemplate

    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.runTemplate(template, step: step)
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        deployer.templateCommands(template, step: step)
    }
}

extension Deployer {
    /// The playbook's values for `{…}`.
    func templateValues(service: String?) -> [PlaybookTemplate.Variable: [String]] {
        var values: [PlaybookTemplate.Variable: [String]] = [
            .services: run.services, .path: [config.path], .compose: commands.compose.words,
            .revision: [run.target?.revision ?? ""], .previous: [previousTarget.revision], .branch: [run.target?.branch ?? ""],
        ]
        if let service {
            values[.service] = [service]
            let image = run.running.ifProduced?[service]?.imageName ?? run.stack.ifProduced?.project.services[service]?.image ?? ""
            values[.image] = [image]
            values[.keptImage] = [run.keptImages.ifProduced?.tags[service] ?? ""]
        }
        return values
    }

    /// The commands a `run:` step stands for: one, or one per service.
    func templateCommands(_ template: PlaybookTemplate, step: PlaybookStep) -> [RemoteCommand] {
        let services: [String?] = template.isPerService ? run.services : [nil]
        return services.map { service in
            let values = templateValues(service: service)
            let changes = step.changes.map { text in
                values.reduce(text) { $0.replacing("{\($1.key.rawValue)}", with: $1.value.joined(separator: " ")) }
            } ?? "runs step \(step.name)"
            return RemoteCommand(commands.inCheckout(template.render(values)), timeout: step.timeout, effect: .changes(changes))
        }
    }

    fileprivate func runTemplate(_ template: PlaybookTemplate, step: PlaybookStep) async throws -> String? {
        for command in templateCommands(template, step: step) {
            _ = try await runChecked(command, step: step.name)
        }
        return nil
    }
}
