import Foundation
import HostCommands
import Remote

/// `builtin: restore-image`: points each service's image name at its kept image again
/// (rebuilding only when it is gone).
struct RestoreImageStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.restoreImages(timeout: step.timeout)
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        let run = deployer.run
        return run.services.compactMap { service in
            guard let running = run.running.ifProduced?[service], let kept = run.keptImages.ifProduced?.tags[service] else { return nil }
            return deployer.commands.tag(kept, as: running.imageName, timeout: step.timeout)
        }
    }
}

extension Deployer {
    /// Points each service's image name at its kept image, so `up` starts it without a build;
    /// rebuilds a service whose kept image is gone, or whose tag no longer names the image
    /// recorded for it (running it would run other code while saying "kept image").
    fileprivate func restoreImages(timeout: Duration) async throws -> String? {
        guard let target = run.target else { return nil }
        var wanted: [String: (kept: String, name: String, imageID: String?)] = [:]
        for service in run.services {
            guard let name = run.running.ifProduced?[service]?.imageName ?? run.stack.ifProduced?.project.services[service]?.image else { continue }
            // `botops rollback` keeps no image: it restores the recorded release.
            if let kept = run.keptImages.ifProduced?.tags[service] {
                wanted[service] = (kept, name, run.running.ifProduced?[service]?.imageID)
            } else if let release = try run.releases.value().release(of: service, revision: target.revision) {
                wanted[service] = (release.image, name, release.imageID)
            } else {
                wanted[service] = (Releases.keptTag(image: name, revision: target.revision), name, nil)
            }
        }
        let idOf = try await imageIDs(Set(wanted.values.map(\.kept)).sorted(), timeout: timeout)
        var rebuild: [String] = []
        var notes: [String] = []
        for service in run.services {
            guard let image = wanted[service], let id = idOf[image.kept] else {
                rebuild.append(service)
                continue
            }
            if let recorded = image.imageID, recorded != id {
                emit(.notice("\(image.kept) names image \(Releases.shortImageID(id)), not \(Releases.shortImageID(recorded)) recorded for \(service) at \(target.revision.prefix(12)): it is not used"))
                rebuild.append(service)
                continue
            }
            try await runChecked(commands.tag(id, as: image.name, timeout: timeout), step: "restore-image")
            notes.append("\(service) ← \(image.kept)")
        }
        if !rebuild.isEmpty {
            emit(.notice("no kept image for \(rebuild.joined(separator: ", ")) at \(target.revision.prefix(12)): rebuilding from the checkout"))
            try await runChecked(commands.build(rebuild, timeout: timeout), step: "restore-image")
            notes.append("rebuilt \(rebuild.joined(separator: ", "))")
        }
        return notes.joined(separator: ", ")
    }
}
