import Foundation
import HostCommands
import Remote

/// `builtin: keep-image`: tags each service's running image with its revision: the rollback target.
struct KeepImageStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.keepImages(timeout: step.timeout)
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        let run = deployer.run
        return run.services.compactMap { service in
            run.running.ifProduced?[service].map { deployer.commands.tag($0.imageID, as: run.keptImages.ifProduced?.tags[service] ?? "", timeout: step.timeout) }
        }
    }
}

extension Deployer {
    fileprivate func keepImages(timeout: Duration) async throws -> String? {
        let running = if let prefetched = run.prefetchedContainers { try await prefetched.value } else { try await runningContainers(run.services) }
        try run.running.produce(running, by: .step(.keepImage))
        let tagged = try await readKeptImages(timeout: timeout)
        var images = KeptImages()
        var kept: [String] = []
        // Produced whatever happens below: a tag that failed half-way leaves the ones made before it.
        do { try await tagRunning(running, tagged: tagged, into: &images, kept: &kept, timeout: timeout) } catch {
            try run.keptImages.produce(images, by: .step(.keepImage))
            throw error
        }
        try run.keptImages.produce(images, by: .step(.keepImage))
        return kept.isEmpty ? "nothing running to keep" : "kept " + kept.joined(separator: ", ")
    }

    /// Tags each service's running image, adding each tag made to `images` and `kept` as it goes.
    private func tagRunning(_ running: [String: RunningContainer], tagged: [String: String], into images: inout KeptImages, kept: inout [String], timeout: Duration) async throws {
        for service in run.services {
            guard let container = running[service] else {
                emit(.notice("\(service) has no container now: there is no image to keep; a rollback would rebuild it"))
                continue
            }
            let (tag, recorded) = try keepingTag(of: service, container, tagged: tagged)
            // The running image may be a recorded release already (its tag still naming it): keep that.
            if let recorded {
                images.tags[service] = tag
                images.releases[service] = recorded
                kept.append(tag)
                continue
            }
            let revision = previousTarget.revision
            if tag != Releases.keptTag(image: container.imageName, revision: revision) {
                emit(.notice("\(Releases.keptTag(image: container.imageName, revision: revision)) names another image than the one \(service) runs; it stays as it is, and \(service)'s image is kept as \(tag)"))
            }
            try await runChecked(commands.tag(container.imageID, as: tag, timeout: timeout), step: "keep-image")
            images.tags[service] = tag
            images.releases[service] = Releases.Release(revision: revision, branch: previousTarget.branch, image: tag, imageID: container.imageID,
                                                        verified: run.baseline.ifProduced.map { $0.skipped.isEmpty && $0.failures.isEmpty } ?? true ? nil : false, recordedAt: Int(Date().timeIntervalSince1970))
            kept.append(tag)
        }
    }

    /// Read-only, before keep-image tags anything (and for the dry run, which shows the same
    /// tags and rollback target): the image each release tag names; produces the recorded release
    /// the containers run when it is not the checkout's HEAD (`runningRevision`).
    func readKeptImages(timeout: Duration) async throws -> [String: String] {
        let revisionBefore = try run.checkoutBefore.value().revision
        let running = try run.running.value()
        let tagged = try await taggedImages(extra: run.services.compactMap { service in
            running[service].map { Releases.keptTag(image: $0.imageName, revision: revisionBefore) }
        }, timeout: timeout)
        try findRunningRelease(running, tagged: tagged, revisionBefore: revisionBefore)
        return tagged
    }

    /// The tag keep-image keeps `container`'s image under, and the recorded release it is when it
    /// is one already (its tag still naming it): otherwise the tag of the revision that ran, or a
    /// tag of its own when that one names another image.
    func keepingTag(of service: String, _ container: RunningContainer, tagged: [String: String]) throws -> (tag: String, recorded: Releases.Release?) {
        if let release = try run.releases.value().release(of: service, runningImage: container.imageID, tagged: tagged), tagged[release.image] == container.imageID {
            return (release.image, release)
        }
        let revision = previousTarget.revision
        return (Releases.tagToKeep(image: container.imageName, revision: revision, imageID: container.imageID,
                                   taggedNow: tagged[Releases.keptTag(image: container.imageName, revision: revision)]), nil)
    }

    /// The containers normally run the checkout's HEAD. After an interrupted deploy the checkout
    /// may be ahead of them: if every service runs the image of the same recorded release, that
    /// release is what runs, and what a rollback returns to.
    fileprivate func findRunningRelease(_ running: [String: RunningContainer], tagged: [String: String], revisionBefore: String) throws {
        let releases = try run.releases.value()
        let matching = run.services.compactMap { service in
            running[service].flatMap { releases.release(of: service, runningImage: $0.imageID, tagged: tagged) }
        }
        let revisions = Set(matching.map(\.revision))
        guard matching.count == run.services.count, revisions.count == 1, let revision = revisions.first, revision != revisionBefore else {
            try run.runningRevision.produce(nil, by: run.producer(.keepImage))
            return
        }
        try run.runningRevision.produce(revision, by: run.producer(.keepImage))
        emit(.notice("the containers run release \(revision.prefix(12)), not the checkout's \(revisionBefore.prefix(12)) (an earlier deploy stopped half-way?): a rollback returns to \(revision.prefix(12))"))
    }
}
