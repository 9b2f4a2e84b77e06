import Checks
import Foundation
import HostCommands
import Remote

/// `builtin: checks`: the nine checks after the change; only new failures fail it, and each
/// container must run the image noted before the stop.
struct ChecksStep: DeployStep {
    func run(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) async throws -> String? {
        try await deployer.verify(timeout: step.timeout)
    }

    func plan(_ step: PlaybookStep, playbook: Playbook.Kind, in deployer: Deployer) -> [RemoteCommand] {
        Self.planned(timeout: step.timeout, config: deployer.config)
    }

    /// The nine checks' own commands, as `verify --dry-run` prints them.
    static func planned(timeout: Duration, config: BotOpsConfig) -> [RemoteCommand] {
        ((try? Verification(config: config, timeout: timeout))?.plan() ?? []).map(\.command)
    }
}

extension Deployer {
    func runChecks(timeout: Duration, prefetched: Task<VerifyReport, Error>? = nil) async throws -> VerifyReport {
        let report: VerifyReport
        if let prefetched {
            report = try await prefetched.value
        } else {
            report = await (try Verification(config: config, timeout: timeout)).checks(on: runner)
        }
        if let lost = report.connectionLost { throw lost }
        return report
    }

    fileprivate func verify(timeout: Duration) async throws -> String? {
        let report = try await runChecks(timeout: timeout)
        let failing = report.results.filter { $0.status == .fail }
        // --strict judges the release; a rollback is judged against the state before the deploy.
        let strict = run.request?.strict == true && run.action == .deploy && !run.rollingBack
        // A playbook without a baseline step (and `botops rollback`) counts every failure.
        let before = run.baseline.ifProduced?.failures ?? []
        let counted = failing.filter { strict || !before.contains($0.id) }
        guard counted.isEmpty else {
            // A check's message may quote the report script's output: the audit gets the ids alone.
            throw StepFailure(message: "check\(counted.count > 1 ? "s" : "") failed: " + counted.map { "\($0.id.rawValue): \($0.message)" }.joined(separator: "; "), refusal: nil,
                              audited: "check\(counted.count > 1 ? "s" : "") failed: " + counted.map(\.id.rawValue).joined(separator: ", "))
        }
        try await requireNewImages(timeout: timeout)
        let skipped = report.results.filter { $0.status == .skip }
        try run.verdict.produce(ChecksVerdict(skipped: skipped.map(\.id), failingAsBefore: failing.map(\.id)), by: .step(.checks))
        let known = failing.count
        let verdict = known == 0 ? "all \(report.results.count - skipped.count) checks pass" : "\(report.results.count - known - skipped.count) pass; \(known) failing as before the deploy"
        return verdict + (skipped.isEmpty ? "" : "; unverified: \(skipped.count) check\(skipped.count == 1 ? "" : "s") skipped")
    }

    /// Each deployed container runs the image noted before the stop: `up` may restart an old
    /// container instead of creating one from that image, and a rollback that did so would say
    /// "rolled back" over the failed release.
    fileprivate func requireNewImages(timeout: Duration) async throws {
        // `deploy --host-files` waits for no container: nothing was deployed to judge.
        let healthy = run.healthy.ifProduced?.containers ?? [:]
        let deployed = run.services.compactMap { service in healthy[service].map { (service, $0) } }
        guard !deployed.isEmpty else { return }
        let made = run.action == .deploy && !run.rollingBack ? "built" : "restored"
        // Without a stop step nothing noted the images: each is judged by what its name says now.
        let imagesToStart = run.stopped.ifProduced?.imagesToStart ?? [:]
        let unnoted = deployed.filter { imagesToStart[$0.0] == nil }.map(\.1.imageName)
        let now = unnoted.isEmpty ? [:] : try await imageIDs(Array(Set(unnoted)).sorted(), timeout: timeout)
        var expected: [String: String] = [:]
        for (service, container) in deployed { expected[service] = imagesToStart[service] ?? now[container.imageName] }
        let stale = deployed.filter { expected[$0.0] != $0.1.imageID }
        guard stale.isEmpty else {
            throw StepFailure(message: stale.map { service, container in
                "\(service)'s container runs image \(Releases.shortImageID(container.imageID)), not \(container.imageName) as \(made) for this revision (\(expected[service].map(Releases.shortImageID) ?? "gone")): an old container was started again"
            }.joined(separator: "; "), refusal: nil)
        }
    }
}
